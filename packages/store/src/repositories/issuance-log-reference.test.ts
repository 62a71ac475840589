import { createHash } from 'node:crypto';
import { decodeDocument } from '@licensekit/core';
import { verifyLoggedEntry } from '@licensekit/core/log';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sequenceQueued } from '../services/issuance-log.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import { issuanceLogRepository } from './issuance-log.js';

/**
 * Migration 0017: a token's log entry refers to its row in tokens instead of copying its
 * bytes. What that rests on, and the queue rows written before it: tokens cannot be
 * changed or removed; a token queued by hash alone (migration 0008, no leaf hash) is read
 * back and hashed by the sequencer; a certificate queued twice is queued once.
 */

/** RFC 9162 leaf hash of a license token's entry (tag 0x01), computed independently. */
function leafOf(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(Uint8Array.of(0x00, 0x01)).update(bytes).digest();
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

  test('a token queued by hash alone, as before migration 0017, is hashed from its row', async () => {
    const purchase = await buy(store);
    const bytes = decodeDocument(purchase.token!, 'license').bytes;
    const hash = createHash('sha256').update(bytes).digest('base64url');
    await store.db.query(
      'INSERT INTO log_pending (kind, document_hash, queued_at) VALUES (1, $1, $2)',
      [hash, store.clock.now()],
    );
    expect(await sequenceQueued(store.db, store.clock.now(), { wait: true })).toBe(1);

    const entry = await issuanceLogRepository(store.db).byDocumentHash(hash);
    expect(Buffer.from(entry!.leafHash)).toEqual(leafOf(bytes));
    expect(Buffer.from(entry!.document)).toEqual(Buffer.from(bytes));
    const [row] = await store.db.query<{ document: Uint8Array | null }>(
      'SELECT document FROM log_entries WHERE document_hash = $1',
      [hash],
    );
    expect(row).toEqual({ document: null });
    // Its proof verifies with the published log key alone.
    const log = store.app.issuanceLog;
    const { kind, ...bundle } = await log.bundleFor(hash);
    expect(kind).toBe('license');
    await expect(verifyLoggedEntry(bytes, 'license', bundle, [log.verifierKey])).resolves.toBe(
      true,
    );
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
    expect(await log.queue('revocations', document, hash, store.clock.now())).toBe(true);
    expect(await log.queue('revocations', document, hash, store.clock.now())).toBe(false);
    expect(await sequenceQueued(store.db, store.clock.now(), { wait: true })).toBe(1);
    // Offered again once in the tree: dropped by the sequencer, not logged twice.
    expect(await log.queue('revocations', document, hash, store.clock.now())).toBe(true);
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
