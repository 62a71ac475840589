import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { queueUpkeep, sequenceQueued } from './issuance-log.js';

/**
 * The queue's upkeep: on PGlite (no autovacuum) the sequencer VACUUMs the queue every so
 * many documents, so the pages its dead rows leave are given back instead of piling up
 * with every document ever issued. On PostgreSQL autovacuum does it, and upkeep does not.
 */
describe.skipIf(postgresUnavailable)('issuance log queue upkeep', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await buildTestStore({ log: { sequenceIntervalMs: 0, checkpointIntervalMs: 0 } });
    await sequenceQueued(store.db, store.clock.now(), { wait: true });
  });
  afterAll(() => store?.close());

  /** The queue's heap, in bytes. */
  async function queueBytes(): Promise<number> {
    const [row] = await store.db.query<{ bytes: string | number }>(
      "SELECT pg_relation_size('log_pending') AS bytes",
    );
    return Number(row?.bytes);
  }

  test('dead queue rows are vacuumed away on PGlite, every so many documents', async () => {
    // 3,000 documents through the queue, as the sequencer leaves it: inserted, then deleted.
    await store.db.query(
      `INSERT INTO log_pending (kind, document_hash, leaf_hash, queued_at)
       SELECT 1, 'upkeep-' || g, sha256(g::text::bytea), now() FROM generate_series(1, 3000) g`,
    );
    await store.db.query("DELETE FROM log_pending WHERE document_hash LIKE 'upkeep-%'");
    const before = await queueBytes();
    expect(before).toBeGreaterThan(8192);

    const upkeep = queueUpkeep(store.db, 3000);
    expect(await upkeep.sequenced(2999)).toBe(false);
    expect(await queueBytes()).toBe(before);
    const due = await upkeep.sequenced(1);
    if (store.db.kind === 'pglite') {
      expect(due).toBe(true);
      // Every page was empty: VACUUM gave them all back.
      expect(await queueBytes()).toBe(0);
      // And counts again from zero.
      expect(await upkeep.sequenced(2999)).toBe(false);
    } else {
      // PostgreSQL: autovacuum's job, not the store's.
      expect(due).toBe(false);
    }
  });
});
