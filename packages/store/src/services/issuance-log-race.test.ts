import { tokenHash } from '@licensekit/core';
import { logEntryHash } from '@licensekit/core/log';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '../db/client.js';
import { loadLogKey } from '../lib/log-key.js';
import { issuanceLogRepository } from '../repositories/issuance-log.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore } from '../testing/harness.js';
import { IssuanceLog, sequenceQueued } from './issuance-log.js';

/**
 * A proof asked for right after issuing, while a sequencer (another instance, or this
 * one's timer) moves the document from the queue into the tree. The interleaving is forced
 * here: the sequencer runs exactly between `bundleFor`'s read of the tree and its check of
 * the queue, which then finds the document in neither. Seen once as a 404 in a full run
 * (test/e2e/cli-log-proof.test.ts) before `bundleFor` read the tree again.
 */
describe('issuance log: a proof asked for while the sequencer runs', () => {
  let store: TestStore;

  beforeAll(async () => {
    // No timers: this test decides when the sequencer runs.
    store = await buildTestStore({ log: { sequenceIntervalMs: 0, checkpointIntervalMs: 0 } });
  });
  afterAll(() => store?.close());

  /** `db`, with the sequencer run just before the first check of the queue. */
  function sequencedBeforeQueueCheck(db: Db): { db: Db; ran: () => number } {
    let moved = -1;
    const query: Db['query'] = async (sql, params) => {
      if (moved < 0 && /^SELECT 1 FROM log_pending WHERE document_hash/.test(sql)) {
        moved = await sequenceQueued(db, store.clock.now(), { wait: true });
      }
      return db.query(sql, params);
    };
    return { db: Object.assign(Object.create(db) as Db, { query }), ran: () => moved };
  }

  test('the document is found in the tree after all, and its proof verifies', async () => {
    const document = new TextEncoder().encode(
      `a document issued at ${store.clock.now().toISOString()}`,
    );
    const hash = await tokenHash(document);
    const log = issuanceLogRepository(store.db);
    await sequenceQueued(store.db, store.clock.now(), { wait: true }); // what the start queued
    expect(
      await log.queue(
        'license',
        document,
        hash,
        await logEntryHash('license', document),
        store.clock.now(),
      ),
    ).toBe(true);

    const { db, ran } = sequencedBeforeQueueCheck(store.db);
    const key = await loadLogKey(
      store.dataDir,
      store.app.config.log.origin,
      store.app.config.publicUrl,
    );
    const racing = new IssuanceLog(db, key, () => store.clock.now());
    const bundle = await racing.bundleFor(hash);

    // The race happened: the queue check ran, and the sequencer moved the document then.
    expect(ran()).toBe(1);
    const entry = await log.byDocumentHash(hash);
    expect(entry?.index).toBe(bundle.index);
    expect(bundle.kind).toBe('license');
    expect(bundle.treeSize).toBeGreaterThan(bundle.index);
  });

  // The timer's checkpoint had read the queue when a token was committed and its checkpoint
  // asked for (POST /v1/admin/log/checkpoint, a proof): the ask joined that run and got a
  // checkpoint without the token (seen as one token of 72 missing in
  // test/e2e/log-two-instances.test.ts under load).
  test('a checkpoint asked for while one is being made includes what was committed first', async () => {
    const key = await loadLogKey(
      store.dataDir,
      store.app.config.log.origin,
      store.app.config.publicUrl,
    );
    await sequenceQueued(store.db, store.clock.now(), { wait: true });
    let release: (() => void) | undefined;
    const paused = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached: () => void = () => undefined;
    const atPause = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let first = true;
    // The first run's sequencer has read the (empty) queue; it waits there.
    const query = async <Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> => {
      const rows = store.db.query<Row>(sql, params);
      if (first && /log_sequence/.test(sql)) {
        first = false;
        await rows;
        reached();
        await paused;
      }
      return rows;
    };
    const db = Object.assign(Object.create(store.db) as Db, { query });
    const log = new IssuanceLog(db, key, () => store.clock.now());
    const timers = log.checkpoint();
    await atPause;

    const document = new TextEncoder().encode(`committed at ${store.clock.now().toISOString()}`);
    const hash = await tokenHash(document);
    await issuanceLogRepository(store.db).queue(
      'license',
      document,
      hash,
      await logEntryHash('license', document),
      store.clock.now(),
    );
    const asked = log.checkpoint();
    release!();
    await timers;
    const checkpoint = await asked;
    const entry = await issuanceLogRepository(store.db).byDocumentHash(hash);
    expect(entry).toBeDefined();
    expect(checkpoint.size).toBeGreaterThan(entry!.index);
  });
});
