/**
 * Issue 7's log cost on the refresh path, taken apart (a probe, not part of `pnpm bench`;
 * `pnpm bench store` gives the figure itself). One store in this process with the
 * sequencer's timer off (LICENSEKIT_LOG_SEQUENCE_MS=0), then in interleaved rounds:
 * - `log`: a fixed number of in-process refreshes (bench.ts keyRefresher, 32 callers), each
 *   token queued for the log;
 * - `sequence`: the sequencer moving exactly those tokens into the tree (the work the
 *   500 ms timer does in a store);
 * - `no-log`: the same number of refreshes with the queue row skipped;
 * - `raw log` and `raw no-log`: the refresh's statements alone (bench.ts rawRefresher),
 *   with the queue row and without it: what the row costs the database.
 * Prints the CPU milliseconds (of the whole process: the server's thread and PGlite's
 * worker) per 1,000 tokens of each, medians of the rounds, and the ratio a store would see
 * if the sequencer's work ran beside the refreshes: no-log / (log + sequence). CPU time
 * rather than wall time, because the cost is what matters here and the shared machine's
 * wall-clock rates swing by ±20 % between rounds.
 *
 * Usage: node bench/log-cost.mjs [pglite|postgres] [tokens per round] [rounds]
 * [--queue-without-key] (postgres needs LICENSEKIT_TEST_DATABASE_URL).
 *
 * `--queue-without-key`: the same on a store whose queue (log_pending) has no primary key
 * nor id sequence, its sequencer taking rows in heap order and deleting them by `ctid`
 * (migration 0017's log_sequence, patched here): what the key costs the refresh.
 */
import { readFileSync } from 'node:fs';
import { keyRefresher, rawRefresher } from '../packages/store/dist/bench.js';
import { buyLicenses, keysPerConnection, openBenchStore } from './store.mjs';

const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const [kind = 'pglite', perRound = '2000', roundCount = '5'] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'));
const WITHOUT_KEY = flags.includes('--queue-without-key');
const TOKENS = Number(perRound);
const ROUNDS = Number(roundCount);
const CALLERS = 32;

process.env.LICENSEKIT_LOG_SEQUENCE_MS = '0';
process.env.LICENSEKIT_LOG_CHECKPOINT_MS = '0';

/** `count` refreshes by CALLERS concurrent callers, each on licenses of its own. */
async function refreshes(refresh, keyLists, count) {
  let left = count;
  const started = process.cpuUsage();
  await Promise.all(
    keyLists.map(async (keys) => {
      for (let call = 0; left > 0; call++) {
        left--;
        await refresh(keys[call % keys.length]);
      }
    }),
  );
  return cpuMs(started);
}

/** CPU time of this process (every thread: PGlite's worker too) since `started`, in ms. */
function cpuMs(started) {
  const { user, system } = process.cpuUsage(started);
  return (user + system) / 1000;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** log_sequence as migration 0017 defines it, changed to work on a queue without a key. */
function sequencerWithoutKey() {
  const migration = readFileSync(
    new URL(
      '../packages/store/src/db/migrations/0017_log_entries_by_reference.ts',
      import.meta.url,
    ),
    'utf8',
  );
  // The template literal's text, as the migration runs it (its \\ are single backslashes).
  const source = /const LOG_SEQUENCE = `([\s\S]*?)`;/.exec(migration)[1].replaceAll('\\\\', '\\');
  const edits = [
    ['CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'],
    ["taken_ids bigint[] := '{}';", "taken_ids tid[] := '{}';"],
    ['SELECT p.id, p.kind', 'SELECT p.ctid AS id, p.kind'],
    ['FROM log_pending p ORDER BY p.id LIMIT', 'FROM log_pending p LIMIT'],
    ['DELETE FROM log_pending WHERE id = ANY', 'DELETE FROM log_pending WHERE ctid = ANY'],
  ];
  return edits.reduce((sql, [from, to]) => {
    if (!sql.includes(from)) throw new Error(`log_sequence no longer has ${from}`);
    return sql.replace(from, to);
  }, source);
}

const store = await openBenchStore(kind, process.env.LICENSEKIT_TEST_DATABASE_URL);
try {
  if (WITHOUT_KEY) {
    await store.app.db.exec(
      `ALTER TABLE log_pending DROP CONSTRAINT log_pending_pkey;
       ALTER TABLE log_pending ALTER COLUMN id DROP DEFAULT, ALTER COLUMN id DROP NOT NULL;
       ${sequencerWithoutKey()}`,
    );
  }
  const keys = await buyLicenses(store.url, 64);
  const spread = keysPerConnection(keys, CALLERS);
  const withLog = keyRefresher(store.app);
  const withoutLog = keyRefresher(store.app, '127.0.0.1', { issuanceLog: false });
  const sample = (await withoutLog(keys[0])).token;
  const rawWithLog = rawRefresher(store.app, sample);
  const rawWithoutLog = rawRefresher(store.app, sample, '127.0.0.1', { issuanceLog: false });
  const log = store.app.issuanceLog;
  await log.sequence();
  // Warm-up: both paths and the sequencer.
  await refreshes(withLog, spread, 500);
  await refreshes(withoutLog, spread, 500);
  await log.sequence();
  const times = { log: [], sequence: [], noLog: [], rawLog: [], rawNoLog: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const logFirst = round % 2 === 0;
    if (!logFirst) times.noLog.push(await refreshes(withoutLog, spread, TOKENS));
    times.log.push(await refreshes(withLog, spread, TOKENS));
    const started = process.cpuUsage();
    const moved = await log.sequence();
    times.sequence.push(cpuMs(started));
    if (moved !== TOKENS) throw new Error(`the sequencer moved ${moved}, not ${TOKENS}`);
    if (logFirst) times.noLog.push(await refreshes(withoutLog, spread, TOKENS));
    if (!logFirst) times.rawNoLog.push(await refreshes(rawWithoutLog, spread, TOKENS));
    times.rawLog.push(await refreshes(rawWithLog, spread, TOKENS));
    if (logFirst) times.rawNoLog.push(await refreshes(rawWithoutLog, spread, TOKENS));
    // Its queue rows are moved too, so that no round starts with a backlog.
    await log.sequence();
  }
  const per1000 = (list) => (median(list) * 1000) / TOKENS;
  const [logMs, sequenceMs, noLogMs] = [
    per1000(times.log),
    per1000(times.sequence),
    per1000(times.noLog),
  ];
  console.log(
    `${kind}${WITHOUT_KEY ? ' (queue without key)' : ''}: ${TOKENS} tokens per round, ${ROUNDS} rounds, ${CALLERS} callers`,
  );
  console.log(
    `CPU ms per 1,000 tokens (median): refresh with queue row ${logMs.toFixed(0)}, sequencer ${sequenceMs.toFixed(0)}, refresh without log ${noLogMs.toFixed(0)}`,
  );
  const [rawLogMs, rawNoLogMs] = [per1000(times.rawLog), per1000(times.rawNoLog)];
  console.log(
    `raw statements, CPU ms per 1,000: with queue row ${rawLogMs.toFixed(0)}, without ${rawNoLogMs.toFixed(0)} (${(rawNoLogMs / rawLogMs).toFixed(2)}×)`,
  );
  console.log(
    `queue row alone: ${(noLogMs / logMs).toFixed(2)}×; with the sequencer's work: ${(noLogMs / (logMs + sequenceMs)).toFixed(2)}×`,
  );
} finally {
  await store.close();
}
