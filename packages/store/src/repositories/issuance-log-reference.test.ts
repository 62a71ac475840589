import { createHash } from 'node:crypto';
import { decodeDocument } from '@licensekit/core';
import { verifyLoggedEntry } from '@licensekit/core/log';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKFILL_LEAF_HASHES } from '../db/migrations/0017_log_entries_by_reference.js';
import { sequenceQueued } from '../services/issuance-log.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import { issuanceLogRepository } from './issuance-log.js';

/**
 * Migration 0017: a token's log entry refers to its row in tokens instead of copying its
 * bytes. What that rests on, and the queue rows written before it: tokens cannot be
 * changed or removed; rows queued before 0017 (a token by hash alone, since 0008) get
 * their leaf hash from the migration's backfill; a document queued twice is queued once.
 */

/** RFC 9162 leaf hash of an entry (tag: 1 token, 3 revocation list), computed here. */
function leafOf(tag: number, bytes: Uint8Array): Buffer {
  return createHash('sha256').update(Uint8Array.of(0x00, tag)).update(bytes).digest();
}

describe.skipIf(postgresUnavailable)('issuance log entries that refer to tokens', () => {
  let store: TestStore;

  beforeAll(async () => {
    // Nothing queued by the store itself: each test queues what it checks.
    store = await buildTestStore({
      log: { sequenceIntervalMs: 0, checkpointIntervalMs: 0, append: false },
    });
    // The issuer certificates, queued at start.
    await sequenceQueued(store.db, store.clock.now(), { wait: true });
  });
  afterAll(() => store?.close());

  test('a token row can be neither changed nor removed', async () => {
    const purchase = await buy(store);
    const [before] = await store.db.query<{ hash: string; token: string }>(
      'SELECT hash, token FROM tokens WHERE license_id = $1',
      [purchase.licenseId],
    );
    expect(before?.token).toBe(purchase.token);
    await expect(
      store.db.query("UPDATE tokens SET token = 'forged' WHERE hash = $1", [before!.hash]),
    ).rejects.toThrow(/tokens are append-only/);
    await expect(
      store.db.query('DELETE FROM tokens WHERE hash = $1', [before!.hash]),
    ).rejects.toThrow(/tokens are append-only/);
    const [after] = await store.db.query<{ token: string }>(
      'SELECT token FROM tokens WHERE hash = $1',
      [before!.hash],
    );
    expect(after?.token).toBe(purchase.token);
  });

  test('rows queued before migration 0017 get their leaf hash from its backfill', async () => {
    // As 0008 left them: a token queued by hash alone, a revocation list with its bytes.
    const purchase = await buy(store);
    const token = decodeDocument(purchase.token!, 'license').bytes;
    const tokenHash = createHash('sha256').update(token).digest('base64url');
    const list = new TextEncoder().encode(`a list queued before 0017, ${Date.now()}`);
    const listHash = createHash('sha256').update(list).digest('base64url');
    await store.db.exec('ALTER TABLE log_pending ALTER COLUMN leaf_hash DROP NOT NULL');
    try {
      await store.db.query(
        `INSERT INTO log_pending (kind, document, document_hash, queued_at)
         VALUES (1, NULL, $1, $3), (3, $2, $4, $3)`,
        [tokenHash, list, store.clock.now(), listHash],
      );
      await store.db.exec(BACKFILL_LEAF_HASHES);
    } finally {
      await store.db.exec('ALTER TABLE log_pending ALTER COLUMN leaf_hash SET NOT NULL');
    }
    expect(await sequenceQueued(store.db, store.clock.now(), { wait: true })).toBe(2);

    const log = issuanceLogRepository(store.db);
    const entry = await log.byDocumentHash(tokenHash);
    expect(Buffer.from(entry!.leafHash)).toEqual(leafOf(1, token));
    expect(Buffer.from(entry!.document)).toEqual(Buffer.from(token));
    const [row] = await store.db.query<{ document: Uint8Array | null }>(
      'SELECT document FROM log_entries WHERE document_hash = $1',
      [tokenHash],
    );
    expect(row).toEqual({ document: null });
    const listed = await log.byDocumentHash(listHash);
    expect(Buffer.from(listed!.leafHash)).toEqual(leafOf(3, list));
    // The token's proof verifies with the published log key alone.
    const { kind, ...bundle } = await store.app.issuanceLog.bundleFor(tokenHash);
    expect(kind).toBe('license');
    await expect(
      verifyLoggedEntry(token, 'license', bundle, [store.app.issuanceLog.verifierKey]),
    ).resolves.toBe(true);
  });

  test('a token never queued (a store from before the log) has no proof, after one look', async () => {
    const purchase = await buy(store);
    const bytes = decodeDocument(purchase.token!, 'license').bytes;
    const hash = createHash('sha256').update(bytes).digest('base64url');
    const log = store.app.issuanceLog;
    await expect(log.bundleFor(hash)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('a document queued with its bytes twice is queued once, and logged once', async () => {
    const document = new TextEncoder().encode(`a revocation list at ${Date.now()}`);
    const hash = createHash('sha256').update(document).digest('base64url');
    const log = issuanceLogRepository(store.db);
    const leaf = leafOf(3, document);
    expect(await log.queue('revocations', document, hash, leaf, store.clock.now())).toBe(true);
    expect(await log.queue('revocations', document, hash, leaf, store.clock.now())).toBe(false);
    expect(await sequenceQueued(store.db, store.clock.now(), { wait: true })).toBe(1);
    // Offered again once in the tree: dropped by the sequencer, not logged twice.
    expect(await log.queue('revocations', document, hash, leaf, store.clock.now())).toBe(true);
    expect(await sequenceQueued(store.db, store.clock.now(), { wait: true })).toBe(0);
    const [count] = await store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM log_entries WHERE document_hash = $1',
      [hash],
    );
    expect(count?.n).toBe(1);
    const entry = await log.byDocumentHash(hash);
    expect(Buffer.from(entry!.document)).toEqual(Buffer.from(document));
  });
});
