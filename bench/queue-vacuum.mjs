/**
 * What PGlite's missing autovacuum does to the issuance log's queue, and what the
 * sequencer's upkeep (services/issuance-log.ts queueUpkeep: VACUUM every 20,000 documents)
 * gives back. A probe, not part of `pnpm bench`. On PGlite in a temporary directory, a
 * table shaped as log_pending (migrations 0005, 0008, 0017) takes 20,000 documents per
 * round the way the sequencer does (128 inserted, then those 128 deleted); after each
 * round it prints the table's size with its index, the VACUUM's time and the size after.
 *
 * Usage: node bench/queue-vacuum.mjs [rounds]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../packages/store/dist/index.js';

const ROUNDS = Number(process.argv[2] ?? 8);
const PER_ROUND = 20_000;
const BATCH = 128;

const directory = mkdtempSync(join(tmpdir(), 'licensekit-queue-vacuum-'));
const db = await openPglite({ dataDir: join(directory, 'db'), worker: false });
try {
  await db.exec(`CREATE TABLE queue (
    id bigserial PRIMARY KEY,
    kind smallint NOT NULL,
    document bytea,
    document_hash text NOT NULL,
    leaf_hash bytea,
    queued_at timestamptz NOT NULL
  )`);
  const size = async () =>
    Number((await db.query(`SELECT pg_total_relation_size('queue') AS bytes`, []))[0].bytes);
  for (let round = 1; round <= ROUNDS; round++) {
    for (let batch = 0; batch < PER_ROUND / BATCH; batch++) {
      await db.query(
        `INSERT INTO queue (kind, document_hash, leaf_hash, queued_at)
         SELECT 1, encode(sha256(random()::text::bytea), 'base64'), sha256(g::text::bytea), now()
           FROM generate_series(1, ${BATCH}) g`,
        [],
      );
      await db.query(
        `DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ${BATCH})`,
        [],
      );
    }
    const before = await size();
    const started = performance.now();
    await db.exec('VACUUM queue');
    const ms = performance.now() - started;
    console.log(
      `after ${round * PER_ROUND} documents: ${before} bytes, VACUUM ${ms.toFixed(1)} ms, then ${await size()} bytes`,
    );
  }
} finally {
  await db.close();
  rmSync(directory, { recursive: true, force: true });
}
