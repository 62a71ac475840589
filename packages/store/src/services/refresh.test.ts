import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { decodeDocument, readLicenseClaims, tokenHash } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db, Queryable } from '../db/client.js';
import { licenseByKey } from '../lib/license-auth.js';
import { storeContext } from '../lib/store-context.js';
import { issuanceLogRepository } from '../repositories/issuance-log.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, openTestDatabase, postgresUnavailable } from '../testing/harness.js';
import { activate, buy, deviceKey, keyPost, proofFor } from '../testing/licensing.js';
import { sequenceQueued } from './issuance-log.js';
import { refreshWithKey } from './refresh.js';

/**
 * Statements per refresh and activation, counted by wrapping the store's database: every
 * statement issued in the async context of one request is recorded (BEGIN and COMMIT
 * included, as a transaction sends them), so background work (sequencer, outbox) does not
 * count. The counts are the design (services/refresh.ts issueNext), not a timing.
 */

const statements = new AsyncLocalStorage<string[]>();

/** The first words of a statement: enough to tell which one it is. */
function label(sql: string): string {
  const text = sql.trim().replace(/\s+/g, ' ');
  if (text.startsWith('WITH head') || text.includes(' head AS (UPDATE licenses')) return 'write';
  if (text.includes('key_guesses') && text.includes('key_hash')) return 'key lookup';
  if (text.startsWith('INSERT INTO device_proofs')) return 'proof';
  if (text.includes('FROM tokens t') && text.includes('JOIN LATERAL')) return 'token lookup';
  if (text.includes('FROM plans WHERE product_id')) return 'plan';
  if (text.includes('FROM licenses WHERE id = $1')) return 'license';
  return text.slice(0, 40);
}

function counting(queryable: Queryable): Queryable {
  return {
    query(sql, params) {
      statements.getStore()?.push(label(sql));
      return queryable.query(sql, params);
    },
    exec(sql) {
      statements.getStore()?.push(label(sql));
      return queryable.exec(sql);
    },
  };
}

function countingDb(db: Db): Db {
  return {
    ...counting(db),
    kind: db.kind,
    transaction(work) {
      statements.getStore()?.push('BEGIN');
      return db
        .transaction((tx) => work(counting(tx)))
        .finally(() => statements.getStore()?.push('COMMIT'));
    },
    close: () => db.close(),
  };
}

/** Runs `work` and answers the statements it issued, in order. */
async function statementsOf<T>(work: () => PromiseLike<T>): Promise<{ result: T; sent: string[] }> {
  const sent: string[] = [];
  // Awaited inside: inject() answers a lazy thenable that starts only when awaited.
  const result = await statements.run(sent, async () => await work());
  return { result, sent };
}

const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));
const hashOf = (token: string) => tokenHash(decodeDocument(token, 'license').bytes);

describe.skipIf(postgresUnavailable)('refresh and activate: statements, lineage, seats', () => {
  let store: TestStore;
  beforeAll(async () => {
    const database = await openTestDatabase();
    store = await buildTestStore({ database: { ...database, db: countingDb(database.db) } });
    // The fixture's database is dropped by hand: buildTestStore leaves a given one alone.
    const close = store.close;
    store.close = async () => {
      await close();
      await database.drop();
    };
  });
  afterAll(async () => store?.close());

  test('a key refresh is the key lookup and one write; again after a plan change, plus the plan', async () => {
    const purchase = await buy(store);
    // The first one may read the plan into the cache.
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(200);
    const { result, sent } = await statementsOf(() =>
      keyPost(store, '/v1/licenses/refresh', purchase.key, {}),
    );
    expect(result.statusCode).toBe(200);
    expect(sent).toEqual(['key lookup', 'write']);
    const claims = claimsOf(result.json().token);
    expect(claims.seq).toBe(2);
    expect(claims.ent).not.toContain('beta');

    // A change of the plan by any writer (here SQL by hand) gives its row a new version:
    // the next refresh reads the plan again and carries the change.
    await store.db.query(
      `UPDATE plans SET entitlements = entitlements || '["beta"]'::jsonb
        WHERE product_id = 'photon' AND id = 'pro-monthly'`,
    );
    const changed = await statementsOf(() =>
      keyPost(store, '/v1/licenses/refresh', purchase.key, {}),
    );
    expect(changed.sent).toEqual(['key lookup', 'plan', 'write']);
    expect(claimsOf(changed.result.json().token).ent).toContain('beta');
    const again = await statementsOf(() =>
      keyPost(store, '/v1/licenses/refresh', purchase.key, {}),
    );
    expect(again.sent).toEqual(['key lookup', 'write']);
  });

  test('a token refresh is one lookup and one write (plus the device proof when bound)', async () => {
    const purchase = await buy(store);
    const unbound = await statementsOf(() =>
      store.app.inject({
        method: 'POST',
        url: '/v1/licenses/refresh',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ token: purchase.token }),
      }),
    );
    expect(unbound.result.statusCode).toBe(200);
    expect(unbound.sent).toEqual(['token lookup', 'write']);

    const laptop = await deviceKey();
    const activated = await statementsOf(() => activate(store, purchase.key, laptop));
    expect(activated.result.statusCode).toBe(200);
    expect(activated.sent).toEqual(['key lookup', 'proof', 'write']);

    const body = JSON.stringify({ token: activated.result.json().token });
    const bound = await statementsOf(async () =>
      store.app.inject({
        method: 'POST',
        url: '/v1/licenses/refresh',
        headers: {
          'content-type': 'application/json',
          dpop: await proofFor(store, laptop, '/v1/licenses/refresh', body),
        },
        payload: body,
      }),
    );
    expect(bound.result.statusCode).toBe(200);
    expect(bound.sent).toEqual(['token lookup', 'proof', 'write']);
    expect(claimsOf(bound.result.json().token).cnf).toEqual({ jkt: laptop.thumbprint });
  });

  test('concurrent refreshes of one license each get the next seq, every prev linked', async () => {
    const purchase = await buy(store);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => keyPost(store, '/v1/licenses/refresh', purchase.key, {})),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(12).fill(200));
    const tokens = [purchase.token!, ...answers.map((answer) => answer.json().token as string)];
    const bySeq = new Map(tokens.map((token) => [claimsOf(token).seq, token]));
    expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 13 }, (_, i) => i),
    );
    for (let seq = 1; seq <= 12; seq++) {
      expect(claimsOf(bySeq.get(seq)!).prev).toBe(await hashOf(bySeq.get(seq - 1)!));
    }
  });

  test('a refresh from a stale read writes nothing, reads again and links to the newest token', async () => {
    const purchase = await buy(store);
    const ctx = storeContext(store.app);
    const stale = await licenseByKey(store.app, '127.0.0.1', purchase.key);
    const between = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    expect(between.statusCode).toBe(200);
    const { result, sent } = await statementsOf(() =>
      refreshWithKey(ctx, stale, { proof: undefined, body: new Uint8Array() }),
    );
    // The compare-and-set refused the stale version; the re-read one was written.
    expect(sent).toEqual(['write', 'license', 'write']);
    expect(result.seq).toBe(2);
    expect(claimsOf(result.token).prev).toBe(await hashOf(between.json().token));
  });

  test('concurrent activations never take more seats than the license has', async () => {
    const purchase = await buy(store);
    const devices = await Promise.all(Array.from({ length: 6 }, () => deviceKey()));
    const answers = await Promise.all(
      devices.map((device) => activate(store, purchase.key, device)),
    );
    const codes = answers.map((answer) => answer.statusCode).sort();
    // pro-monthly has 2 seats.
    expect(codes).toEqual([200, 200, 409, 409, 409, 409]);
    const [row] = await store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM devices WHERE license_id = $1 AND deactivated_at IS NULL',
      [purchase.licenseId],
    );
    expect(row?.n).toBe(2);
    // Re-activating an active device takes no seat and renames it.
    const first = devices[answers.findIndex((answer) => answer.statusCode === 200)]!;
    const again = await keyPost(
      store,
      '/v1/licenses/activate',
      purchase.key,
      { device: { publicJwk: first.publicJwk, name: 'desk' } },
      { device: first },
    );
    expect(again.statusCode).toBe(200);
    expect(again.json().device).toMatchObject({ thumbprint: first.thumbprint, name: 'desk' });
  });

  test('a deactivated device gets no token, even when its refresh read the license before', async () => {
    const purchase = await buy(store);
    const laptop = await deviceKey();
    const activated = await activate(store, purchase.key, laptop);
    expect(activated.statusCode).toBe(200);
    const ctx = storeContext(store.app);
    const stale = await licenseByKey(store.app, '127.0.0.1', purchase.key);
    const deactivated = await keyPost(store, '/v1/licenses/deactivate', purchase.key, {
      thumbprint: laptop.thumbprint,
    });
    expect(deactivated.statusCode).toBe(200);
    const body = JSON.stringify({ thumbprint: laptop.thumbprint });
    const proof = await proofFor(store, laptop, '/v1/licenses/refresh', body);
    await expect(
      refreshWithKey(ctx, stale, {
        thumbprint: laptop.thumbprint,
        proof,
        body: new TextEncoder().encode(body),
      }),
    ).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
  });

  test('a token queued by hash enters the log with its exact bytes', async () => {
    const purchase = await buy(store);
    const answer = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    const token = answer.json().token as string;
    const bytes = decodeDocument(token, 'license').bytes;
    const hash = await hashOf(token);
    // Queued with its leaf hash (RFC 9162, computed here independently) and no bytes.
    const [queued] = await store.db.query<{ document: Uint8Array | null; leaf_hash: Uint8Array }>(
      'SELECT document, leaf_hash FROM log_pending WHERE document_hash = $1',
      [hash],
    );
    expect(queued?.document).toBeNull();
    const leaf = createHash('sha256').update(Uint8Array.of(0x00, 0x01)).update(bytes).digest();
    expect(Buffer.from(queued!.leaf_hash)).toEqual(leaf);
    await sequenceQueued(store.db, store.clock.now(), { wait: true });
    const entry = await issuanceLogRepository(store.db).byDocumentHash(hash);
    expect(entry?.kind).toBe('license');
    expect(Buffer.from(entry!.document)).toEqual(Buffer.from(bytes));
    expect(Buffer.from(entry!.leafHash)).toEqual(leaf);
    // The entry refers to the token's row: its bytes are not copied into the log.
    const [row] = await store.db.query<{ document: Uint8Array | null }>(
      'SELECT document FROM log_entries WHERE document_hash = $1',
      [hash],
    );
    expect(row).toEqual({ document: null });
  });
});
