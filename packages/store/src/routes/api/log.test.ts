import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { base64urlDecode, LogProofError } from '@licensekit/core';
import type { LogProofBundle } from '@licensekit/core/log';
import {
  openCheckpoint,
  parseVerifierKey,
  verifyCheckpointConsistency,
  verifyLoggedEntry,
} from '@licensekit/core/log';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { documentBytes } from '../../services/issuance-log.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, openTestDatabase, postgresUnavailable } from '../../testing/harness.js';
import { activate, buy, deviceKey, keyPost } from '../../testing/licensing.js';

/**
 * The issuance log end to end through the store's routes: every token, certificate and
 * revocation list is an entry; checkpoints are signed by the published log key; a root
 * recomputed here from the entries (by the RFC 9162 definition, not the store's code)
 * equals the checkpoint's; inclusion and consistency proofs verify; indices stay dense
 * under concurrent issuing and across a restart; hostile queries get typed 4xx.
 */

const ADMIN = { authorization: 'Bearer test-admin-token' };

/** MTH(D[0:n]) by the recursive definition of RFC 9162 §2.1.1. */
function referenceRoot(leaves: Uint8Array[]): Buffer {
  const sha = (...parts: Uint8Array[]) => {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return hash.digest();
  };
  const mth = (d: Uint8Array[]): Buffer => {
    if (d.length === 0) return sha();
    if (d.length === 1) return sha(Uint8Array.of(0), d[0]!);
    let k = 1;
    while (k * 2 < d.length) k *= 2;
    return sha(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
  };
  return mth(leaves);
}

const TAGS = { license: 1, certificate: 2, revocations: 3 } as const;

interface EntryJson {
  index: number;
  kind: keyof typeof TAGS;
  document: string;
  documentHash: string;
}

describe.skipIf(postgresUnavailable)('issuance log', () => {
  let store: TestStore;
  let logKey: string;

  async function get(url: string) {
    return store.app.inject({ url });
  }

  /** Every entry, once what was issued so far is in the tree (a checkpoint sequences it). */
  async function allEntries(): Promise<EntryJson[]> {
    await checkpointNow();
    const entries: EntryJson[] = [];
    let start: number | null = 0;
    while (start !== null) {
      const page: { entries: EntryJson[]; next: number | null } = (
        await get(`/v1/log/entries?start=${start}&limit=7`)
      ).json();
      entries.push(...page.entries);
      start = page.next;
    }
    return entries;
  }

  async function checkpointNow(): Promise<string> {
    const response = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/log/checkpoint',
      headers: ADMIN,
    });
    expect(response.statusCode).toBe(200);
    return response.json().checkpoint;
  }

  beforeAll(async () => {
    store = await buildTestStore({ log: { checkpointIntervalMs: 0, sequenceIntervalMs: 0 } });
    logKey = (await get('/v1/keys')).json().log.key;
  });
  afterAll(() => store?.close());

  test('the log key is published, is not an issuer key, and lives in a 0600 file', async () => {
    const keys = (await get('/v1/keys')).json();
    expect(keys.log.origin).toBe('store.test/licensekit/log');
    expect(logKey.startsWith('store.test/licensekit/log+')).toBe(true);
    const verifier = await parseVerifierKey(logKey);
    const issuerX = base64urlDecode(keys.issuers[0].key.x);
    expect(Buffer.from(verifier.publicKey).equals(Buffer.from(issuerX))).toBe(false);
    expect(statSync(join(store.dataDir, 'keys', 'log.json')).mode & 0o777).toBe(0o600);
  });

  test('every token issued is an entry, and the checkpoint root is the root of the entries', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const activation = await activate(store, purchase.key, device);
    expect(activation.statusCode).toBe(200);
    const refreshed = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    expect(refreshed.statusCode).toBe(200);
    const tokens = [purchase.token!, activation.json().token, refreshed.json().token];

    const note = await checkpointNow();
    const entries = await allEntries();
    expect(entries.map((entry) => entry.index)).toEqual(entries.map((_, i) => i));
    // The issuer certificates come first (logged at start), then the tokens in order.
    expect(entries.filter((entry) => entry.kind === 'certificate').length).toBeGreaterThan(0);
    const logged = entries.filter((entry) => entry.kind === 'license');
    expect(logged.map((entry) => Buffer.from(base64urlDecode(entry.document)))).toEqual(
      tokens.map((token) => Buffer.from(documentBytes(token))),
    );

    const head = await openCheckpoint(note, [await parseVerifierKey(logKey)]);
    expect(head.size).toBe(entries.length);
    const leaves = entries.map((entry) =>
      Buffer.concat([Uint8Array.of(TAGS[entry.kind]), base64urlDecode(entry.document)]),
    );
    expect(Buffer.from(head.rootHash).equals(referenceRoot(leaves))).toBe(true);
    expect((await get('/v1/log/checkpoint')).body).toBe(note);
  });

  test('a token has a proof bundle that verifies offline with the log key alone', async () => {
    const purchase = await buy(store);
    const bytes = documentBytes(purchase.token!);
    const hash = createHash('sha256').update(bytes).digest('base64url');
    const response = await get(`/v1/log/proof?hash=${hash}`);
    expect(response.statusCode).toBe(200);
    const { kind, ...bundle } = response.json() as LogProofBundle & { kind: string };
    expect(kind).toBe('license');
    await expect(verifyLoggedEntry(bytes, 'license', bundle, [logKey])).resolves.toBe(true);
    // The same bundle does not vouch for another token, nor under another key.
    const other = documentBytes((await buy(store)).token!);
    await expect(verifyLoggedEntry(other, 'license', bundle, [logKey])).rejects.toBeInstanceOf(
      LogProofError,
    );
    const byIndex = (await get(`/v1/log/proof?index=${bundle.index}`)).json();
    expect(byIndex.index).toBe(bundle.index);
  });

  test('activate, refresh and the token download answer the bundle when asked', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const activated = await activate(store, purchase.key, device, { logProof: true });
    expect(activated.statusCode).toBe(200);
    const refreshed = await keyPost(store, '/v1/licenses/refresh', purchase.key, {
      logProof: true,
    });
    const download = await store.app.inject({
      url: '/v1/licenses/token?logProof=true',
      headers: { authorization: `Bearer ${purchase.key}` },
    });
    for (const answer of [activated.json(), refreshed.json(), download.json()]) {
      const bytes = documentBytes(answer.token);
      await expect(verifyLoggedEntry(bytes, 'license', answer.logProof, [logKey])).resolves.toBe(
        true,
      );
    }
    // Not asked, not given (and no checkpoint is made for it).
    const plain = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    expect(plain.json().logProof).toBeUndefined();
    expect(
      (await keyPost(store, '/v1/licenses/refresh', purchase.key, { logProof: 'yes' })).statusCode,
    ).toBe(400);
  });

  test('checkpoints are consistent with each other as the log grows', async () => {
    const key = await parseVerifierKey(logKey);
    const older = await openCheckpoint(await checkpointNow(), [key]);
    for (let i = 0; i < 5; i++) await buy(store);
    const newer = await openCheckpoint(await checkpointNow(), [key]);
    expect(newer.size).toBeGreaterThan(older.size);
    const listed = (await get(`/v1/log/checkpoints?start=${older.size}&limit=1`)).json();
    expect(listed.checkpoints).toHaveLength(1);
    expect(listed.checkpoints[0].size).toBe(older.size);
    expect(listed.next).toBe(newer.size);
    const response = await get(`/v1/log/consistency?first=${older.size}&second=${newer.size}`);
    expect(response.statusCode).toBe(200);
    const proof = (response.json().proof as string[]).map((h) => Buffer.from(h, 'base64'));
    await expect(verifyCheckpointConsistency(older, newer, proof)).resolves.toBe(true);
    const forged = proof.map((h, i) => (i === 0 ? Buffer.alloc(32, 7) : h));
    await expect(verifyCheckpointConsistency(older, newer, forged)).rejects.toBeInstanceOf(
      LogProofError,
    );
  });

  test('concurrent issuing keeps indices dense, and a rolled-back issue leaves no gap', async () => {
    const purchases = await Promise.all(Array.from({ length: 12 }, () => buy(store)));
    await Promise.all(purchases.map((p) => keyPost(store, '/v1/licenses/refresh', p.key, {})));
    // Refused before signing: nothing appended, nothing skipped.
    expect(
      (await keyPost(store, '/v1/licenses/refresh', 'LK-NOPE', {})).statusCode,
    ).toBeGreaterThanOrEqual(400);
    const entries = await allEntries();
    expect(entries.map((entry) => entry.index)).toEqual(entries.map((_, i) => i));
    expect(new Set(entries.map((entry) => entry.documentHash)).size).toBe(entries.length);
  });

  test('a token is queued in its own transaction and in the tree once sequenced', async () => {
    const log = (await get('/v1/log/entries?start=0&limit=1')).json();
    const purchase = await buy(store);
    const hash = createHash('sha256').update(documentBytes(purchase.token!)).digest('base64url');
    // Not sequenced yet (the periodic sequencer is off here): the tree has not grown…
    expect((await get('/v1/log/entries?start=0&limit=1')).json().treeSize).toBe(log.treeSize);
    // …but a proof asked for it sequences it on the spot.
    const proof = await get(`/v1/log/proof?hash=${hash}`);
    expect(proof.statusCode).toBe(200);
    expect(proof.json().index).toBe(log.treeSize);
  });

  test('a document queued again once in the tree is dropped from the queue, not logged twice', async () => {
    const before = await allEntries();
    const certificate = before.find((entry) => entry.kind === 'certificate')!;
    // What a start offering its certificates again, racing a sequencer, could leave queued.
    const bytes = base64urlDecode(certificate.document);
    const leaf = createHash('sha256').update(Uint8Array.of(0, 2)).update(bytes).digest();
    await store.app.db.query(
      `INSERT INTO log_pending (kind, document, document_hash, leaf_hash, queued_at)
       VALUES (2, $1, $2, $3, now())`,
      [bytes, certificate.documentHash, leaf],
    );
    const purchase = await buy(store);
    const after = await allEntries();
    expect(after.length).toBe(before.length + 1);
    expect(after.map((entry) => entry.index)).toEqual(after.map((_, i) => i));
    expect(new Set(after.map((entry) => entry.documentHash)).size).toBe(after.length);
    expect(Buffer.from(base64urlDecode(after.at(-1)!.document))).toEqual(
      Buffer.from(documentBytes(purchase.token!)),
    );
    expect(await store.app.db.query('SELECT id FROM log_pending')).toEqual([]);
  });

  test('revocation lists are logged', async () => {
    const purchase = await buy(store);
    const response = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/revocations',
      headers: ADMIN,
      payload: { kind: 'license', value: purchase.licenseId },
    });
    expect(response.statusCode).toBeLessThan(300);
    const list = (await get('/v1/revocations')).json().list as string;
    const entries = await allEntries();
    const last = entries.filter((entry) => entry.kind === 'revocations').at(-1);
    expect(Buffer.from(base64urlDecode(last!.document))).toEqual(Buffer.from(documentBytes(list)));
  });

  test('hostile queries get typed 4xx answers', async () => {
    const cases: [string, number][] = [
      ['/v1/log/proof', 400],
      ['/v1/log/proof?index=-1', 400],
      ['/v1/log/proof?index=1.5', 400],
      ['/v1/log/proof?index=99999999', 404],
      ['/v1/log/proof?index=0&hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 400],
      ['/v1/log/proof?hash=short', 400],
      ['/v1/log/proof?hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 404],
      ['/v1/log/entries', 400],
      ['/v1/log/entries?start=0&limit=100000', 400],
      ['/v1/log/entries?start=abc', 400],
      ['/v1/log/consistency?first=5&second=2', 400],
      ['/v1/log/consistency?first=0&second=99999999', 400],
      ['/v1/log/consistency?first=0', 400],
    ];
    for (const [url, status] of cases) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(status);
      expect(response.json().error.code, url).toMatch(/^[A-Z_]+$/);
    }
    const beyond = (await get('/v1/log/entries?start=99999999')).json();
    expect(beyond.entries).toEqual([]);
    expect(
      (await store.app.inject({ method: 'POST', url: '/v1/admin/log/checkpoint' })).statusCode,
    ).toBe(401);
  });
});

describe.skipIf(postgresUnavailable)('issuance log across a restart', () => {
  test('a restarted store continues the same log, under the same key and origin', async () => {
    const database = await openTestDatabase();
    const first = await buildTestStore({
      database,
      log: { checkpointIntervalMs: 0, sequenceIntervalMs: 0 },
    });
    const dataDir = first.dataDir;
    await buy(first);
    const sequence = (store: TestStore) =>
      store.app.inject({ method: 'POST', url: '/v1/admin/log/checkpoint', headers: ADMIN });
    await sequence(first);
    const before = (await first.app.inject({ url: '/v1/log/entries?start=0' })).json();
    const key = (await first.app.inject({ url: '/v1/keys' })).json().log.key;
    await first.app.close();

    const second = await buildTestStore({
      database,
      dataDir,
      log: { checkpointIntervalMs: 0, sequenceIntervalMs: 0 },
    });
    try {
      expect((await second.app.inject({ url: '/v1/keys' })).json().log.key).toBe(key);
      await buy(second);
      await sequence(second);
      const after = (await second.app.inject({ url: '/v1/log/entries?start=0' })).json();
      // The certificates are not logged twice; the new token follows the old entries.
      expect(after.treeSize).toBe(before.treeSize + 1);
      expect(after.entries.slice(0, before.treeSize)).toEqual(before.entries);
    } finally {
      await second.app.close();
      await database.drop();
    }
  });
});
