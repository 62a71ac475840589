/**
 * Issues 4 and 9: the store's refresh under load, on PGlite and on PostgreSQL. For each
 * database one store runs in this process (port 0 on 127.0.0.1, no logger, the bench route
 * on), 64 licenses are bought through the test provider, and these sides run in
 * interleaved rounds of a fixed duration:
 * - refresh: autocannon (a child process, bench/lib/load.mjs), 32 connections, POST
 *   /v1/licenses/refresh with `Authorization: Bearer <license key>` and `{}`; each
 *   connection cycles through 2 licenses of its own, so no two connections race on one
 *   license; and the same with 8 connections (8 licenses each);
 * - the HTTP limit: the same requests to POST /v1/bench/ready-token of the same server,
 *   which answers a token signed at start-up (packages/store/src/routes/bench.ts);
 * - the in-process refresh: what the route runs — the license lookup and refreshWithKey,
 *   signing included — called in this process by 32 concurrent callers on the same
 *   licenses, against the same database (packages/store/src/bench.ts keyRefresher); and
 *   the same with the issuance-log queue row skipped (issue 7's cost of the log);
 * - the raw database: the refresh's statements (the key lookup and the token write, same
 *   SQL, same parameters) sent straight to the store's database handle by 32 concurrent
 *   callers, nothing signed (bench.ts rawRefresher);
 * - with BENCH_STORE_BASELINE=<dir> (a built checkout of another commit, e.g. `git archive
 *   HEAD | tar -x -C dir`, installed and built): that checkout's store on a database of its
 *   own in this same process, loaded as the refresh side at 32 and at 8 connections — the
 *   throughput ratio to the previous commit, same run, rounds interleaved.
 * Then a context figure: all 32 connections (and callers) on one license.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createScratchDatabase, keyRefresher, rawRefresher } from '../packages/store/dist/bench.js';
import { buildStore, openPglite, openPostgres } from '../packages/store/dist/index.js';
import { median, quantile } from './lib/interleave.mjs';
import { startLoad } from './lib/load.mjs';

const COMMAND = 'pnpm bench store';
const POSTGRES_COMMAND = 'LICENSEKIT_TEST_DATABASE_URL=… pnpm bench store';
const BASELINE_COMMAND = 'BENCH_STORE_BASELINE=<built checkout of the previous commit> …';
const CONNECTIONS = 32;
/** Issue 9's latency goal on PGlite is at this many connections. */
const FEW_CONNECTIONS = 8;
const LICENSES = 64;
const WARMUP_SECONDS = 2;
/** 5 rounds of 2 s per side: 10 s of each, interleaved. */
const ROUNDS = 5;
const ROUND_SECONDS = 2;
const SINGLE_ROUNDS = 2;
/** Far above any rate seen here: only a runaway would reach it before the duration ends. */
const MAX_REQUESTS_PER_ROUND = 200_000;

const REFRESH_PATH = '/v1/licenses/refresh';
const READY_PATH = '/v1/bench/ready-token';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const seconds = (from) => Number(process.hrtime.bigint() - from) / 1e9;

const THIS_CHECKOUT = { buildStore, openPglite, createScratchDatabase };

/** The store modules of another built checkout (BENCH_STORE_BASELINE). */
async function checkoutModules(directory) {
  const dist = join(directory, 'packages', 'store', 'dist');
  const index = await import(pathToFileURL(join(dist, 'index.js')).href);
  const bench = await import(pathToFileURL(join(dist, 'bench.js')).href);
  return {
    buildStore: index.buildStore,
    openPglite: index.openPglite,
    createScratchDatabase: bench.createScratchDatabase,
  };
}

/**
 * A store in this process on a fresh database: PGlite in a temporary directory, or a new
 * PostgreSQL database created through `adminUrl` and dropped by close(). `modules`: the
 * store of this checkout, or of another one (the previous commit's, as a baseline).
 */
export async function openBenchStore(kind, adminUrl, modules = THIS_CHECKOUT) {
  const { buildStore, openPglite, createScratchDatabase } = modules;
  const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-bench-store-'));
  const options = {
    dataDir,
    logger: false,
    benchRoutes: true,
    host: '127.0.0.1',
    port: 0,
    seedDemo: true,
  };
  let drop = async () => {};
  let db;
  if (kind === 'pglite') {
    // Passed in rather than opened from the config, so a DATABASE_URL in the environment
    // cannot turn this side into PostgreSQL. In a worker thread, as `licensekit serve` opens
    // it (plugins/database.ts; LICENSEKIT_PGLITE_WORKER=0 measures the calling thread); a
    // checkout from before the worker ignores the option.
    db = await openPglite({ dataDir: join(dataDir, 'db'), worker: true });
    options.db = db;
  } else {
    const scratch = await createScratchDatabase(adminUrl, 'lk_bench');
    options.databaseUrl = scratch.url;
    drop = scratch.drop;
  }
  let app;
  try {
    app = await buildStore(options);
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await app?.close();
    await db?.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  if (app.db.kind !== kind) throw new Error(`bench store runs on ${app.db.kind}, not ${kind}`);
  const url = `http://127.0.0.1:${app.server.address().port}`;
  return {
    app,
    url,
    async close() {
      await app.close();
      await db?.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Buys `count` licenses of the demo catalogue's pro-monthly plan (test provider). */
export async function buyLicenses(url, count) {
  const keys = [];
  const buyOne = async (index) => {
    const response = await fetch(`${url}/v1/checkout`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': randomBytes(16).toString('hex'),
      },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: `bench-${index}@example.com`,
      }),
    });
    const body = await response.json();
    if (response.status !== 201)
      throw new Error(`checkout: ${response.status} ${JSON.stringify(body)}`);
    keys[index] = body.license.key;
  };
  for (let start = 0; start < count; start += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, count - start) }, (_, i) => buyOne(start + i)),
    );
  }
  return keys;
}

/** Connection (or caller) i refreshes the licenses keys[i], keys[i + 32], … in turn. */
export function keysPerConnection(keys, connections = CONNECTIONS) {
  return Array.from({ length: connections }, (_, connection) =>
    keys.filter((_, index) => index % connections === connection),
  );
}

function requestsFor(path, keyLists) {
  return keyLists.map((keys) =>
    keys.map((key) => ({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: '{}',
    })),
  );
}

/**
 * One caller per key list, all concurrent, each refreshing its keys in turn for `duration`
 * seconds; answers as load.run does (a failed call counts as a non-2xx, by error code).
 */
async function inProcess(refresh, keyLists, duration) {
  const latencies = [];
  const failures = {};
  let ok = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(duration * 1e9));
  await Promise.all(
    keyLists.map(async (keys) => {
      for (let call = 0; process.hrtime.bigint() < deadline; call++) {
        const callStarted = process.hrtime.bigint();
        try {
          await refresh(keys[call % keys.length]);
          latencies.push(seconds(callStarted) * 1000);
          ok++;
        } catch (error) {
          const code = error?.code ?? error?.message ?? String(error);
          failures[code] = (failures[code] ?? 0) + 1;
        }
      }
    }),
  );
  const non2xx = Object.values(failures).reduce((sum, count) => sum + count, 0);
  return { seconds: seconds(started), ok, non2xx, statusCodes: failures, errors: 0, latencies };
}

/**
 * Runs every side for a warm-up, then `rounds` rounds of each in alternating order.
 * @returns per side: rates per round, every latency, and the failure counts
 */
async function rounds(sides, { rounds: count, warmup }) {
  const names = Object.keys(sides);
  const run = (name, duration) =>
    sides[name](duration).catch((error) => {
      throw new Error(`side ${name}: ${error.message}`, { cause: error });
    });
  if (warmup > 0) for (const name of names) await run(name, warmup);
  const outcome = Object.fromEntries(
    names.map((name) => [
      name,
      { rates: [], latencies: [], non2xx: 0, errors: 0, statusCodes: {}, rampSeconds: [] },
    ]),
  );
  for (let round = 0; round < count; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const result = await run(name, ROUND_SECONDS);
      const side = outcome[name];
      side.rates.push(result.ok / result.seconds);
      for (const latency of result.latencies) side.latencies.push(latency);
      side.non2xx += result.non2xx;
      side.errors += result.errors;
      if (result.rampSeconds !== undefined) side.rampSeconds.push(result.rampSeconds);
      for (const [code, n] of Object.entries(result.statusCodes)) {
        side.statusCodes[code] = (side.statusCodes[code] ?? 0) + n;
      }
    }
  }
  for (const side of Object.values(outcome)) {
    side.rate = median(side.rates);
    side.p50 = quantile(side.latencies, 0.5);
    side.p99 = quantile(side.latencies, 0.99);
    side.count = side.latencies.length;
  }
  return outcome;
}

function ratioOf(outcome, ours, baseline) {
  const perRound = outcome[ours].rates.map((rate, round) => rate / outcome[baseline].rates[round]);
  return {
    median: median(perRound),
    low: quantile(perRound, 0.25),
    high: quantile(perRound, 0.75),
  };
}

const LABEL = { pglite: 'PGlite', postgres: 'PostgreSQL' };

/**
 * An HTTP side that starts from an empty issuance-log queue. The in-process sides queue a
 * round's worth of tokens (thousands, at in-process speed) on the main store, which its
 * sequencer would otherwise move into the tree during the next HTTP round, holding the
 * database in batches; the previous commit's store, under HTTP load only, never carries
 * that backlog. Draining first measures both the same way: refresh with the log at the
 * rate the round itself issues (the sequencer still runs every 500 ms).
 */
function drained(app, side) {
  return async (duration) => {
    await app.issuanceLog?.sequence();
    return side(duration);
  };
}

async function benchDatabase(kind, adminUrl, load, baselineModules) {
  const store = await openBenchStore(kind, adminUrl);
  let previous;
  try {
    const keys = await buyLicenses(store.url, LICENSES);
    const refresh = keyRefresher(store.app);
    const refreshWithoutLog = keyRefresher(store.app, '127.0.0.1', { issuanceLog: false });
    const sample = (await refresh(keys[0])).token;
    const raw = rawRefresher(store.app, sample);
    const spread = keysPerConnection(keys);
    const fewSpread = keysPerConnection(keys, FEW_CONNECTIONS);
    const single = keysPerConnection([keys[0]], 1);
    const http =
      (url, path, keyLists, connections = CONNECTIONS) =>
      (duration) =>
        load.run({
          url,
          connections,
          seconds: duration,
          maxRequests: MAX_REQUESTS_PER_ROUND,
          perConnection: requestsFor(path, keyLists),
        });
    const sides = {
      refresh: drained(store.app, http(store.url, REFRESH_PATH, spread)),
      refreshFew: drained(store.app, http(store.url, REFRESH_PATH, fewSpread, FEW_CONNECTIONS)),
      httpLimit: http(store.url, READY_PATH, spread),
      inProcess: (duration) => inProcess(refresh, spread, duration),
      inProcessNoLog: (duration) => inProcess(refreshWithoutLog, spread, duration),
      raw: (duration) => inProcess(raw, spread, duration),
    };
    if (baselineModules) {
      previous = await openBenchStore(kind, adminUrl, baselineModules);
      const previousKeys = await buyLicenses(previous.url, LICENSES);
      sides.previous = drained(
        previous.app,
        http(previous.url, REFRESH_PATH, keysPerConnection(previousKeys)),
      );
      sides.previousFew = drained(
        previous.app,
        http(
          previous.url,
          REFRESH_PATH,
          keysPerConnection(previousKeys, FEW_CONNECTIONS),
          FEW_CONNECTIONS,
        ),
      );
    }
    const main = await rounds(sides, { rounds: ROUNDS, warmup: WARMUP_SECONDS });
    const oneLicense = await rounds(
      {
        refresh: http(store.url, REFRESH_PATH, single),
        inProcess: (duration) => inProcess(refresh, Array(CONNECTIONS).fill(single[0]), duration),
      },
      { rounds: SINGLE_ROUNDS, warmup: 0 },
    );
    const lengths = {
      refresh: (await refresh(keys[1])).token.length,
      ready: (
        await (
          await fetch(`${store.url}${READY_PATH}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          })
        ).json()
      ).token.length,
    };
    return { kind, main, oneLicense, lengths };
  } finally {
    await previous?.close();
    await store.close();
  }
}

/**
 * What `node bench/profile.mjs store-refresh-<database>` showed (2 cores, shared), after
 * issue 9 cut a refresh to two statements.
 */
const PROFILES = {
  pglite:
    "`node bench/profile.mjs store-refresh-pglite` with PGlite in its worker thread (2 shared cores, load average 2–3): the server's thread is 74% idle under the 32-connection load; signNextToken ≈ 5% inclusive, Fastify writing the reply ≈ 5%, the messages to and from the worker < 1%. The worker thread (`node --cpu-prof`, whole life): PGlite's executor (execProtocolRawSync) the bulk of its busy time, postMessage of the answers ≈ 8% self. So the refresh is bound by PGlite's executor (the raw database side: the 2 statements alone) and by the 2 cores that the executor, the server's thread and autocannon share. Before the worker, PGlite took ≈ 75% of the server's own thread. EXPLAIN ANALYZE of the write on PGlite: planning 0.5–0.7 ms, execution 0.6–0.8 ms, and PGlite parses, describes and plans every statement anew: so the store now prepares each statement once (db/pglite-prepared.ts: Parse+Describe once, then Bind+Execute in one executor call): 0.25–0.40× the CPU per refresh in a same-run A/B of the 2 statements, and refresh throughput 2.1–2.3× the previous commit's (2026-12-06 evening runs). Timing every executor call in the worker under this load (2026-12-06 night) found one slow statement, the issuance-log sequencer's batch INSERT (20–35 ms for 1,000 entries, every 500 ms), which every request waited behind: batches of 128 took the p99 at 8 connections from 58–65 ms to 41–42 ms.",
  postgres:
    "`node bench/profile.mjs store-refresh-postgres` (issue 9, 2 shared cores, load average 5–11): writev system calls ≈ 17% self of the server's samples (pg sending the 2 statements of a refresh), pg result parsing ≈ 24% inclusive, Fastify writing the reply ≈ 8%, signNextToken ≈ 11% (issuer issue ≈ 8.5%, Ed25519 sign ≈ 5%); EXPLAIN ANALYZE of the write on PostgreSQL: planning 0.2–0.3 ms, execution 0.3–0.5 ms (a prepared statement would save the planning).",
};

/** One line: why refresh falls short of the in-process refresh, when it does. */
function throughputWhy(kind, main) {
  const ratio = ratioOf(main, 'refresh', 'inProcess');
  const spread = `per-round ratios ${ratio.low.toFixed(2)}–${ratio.high.toFixed(2)}`;
  const shared =
    kind === 'postgres'
      ? 'the server, the PostgreSQL backends and autocannon share the 2 cores, and only the refresh side has a load generator taking its share: the in-process side leaves that CPU to the server and PostgreSQL'
      : "PGlite runs in a worker thread (db/pglite-worker.ts), so the executor, the server's thread (HTTP, signing) and autocannon share the 2 cores, and the in-process side, with no HTTP, leaves more of them to the executor";
  return `HTTP and Fastify cost what the HTTP limit of this run shows (${integer.format(main.httpLimit.rate)}/s of a route that does nothing else); beyond that, ${shared} (${spread}: how busy the machine was moved them).`;
}

/** One line: why a p99 goal is missed (Little's law for a closed loop of connections). */
function latencyWhy(db, main, side, connections) {
  const needed = (connections * 1000) / 50;
  const mean = (connections * 1000) / main[side].rate;
  return (
    `${connections} connections that always have a request waiting see on average ${connections} / rate (Little's law), so a p99 of 50 ms needs well over ${integer.format(needed)} refreshes/s with a tight spread; ` +
    `this run's refresh on ${db} at ${connections} connections did ${integer.format(main[side].rate)}/s (mean ${mean.toFixed(0)} ms, p50 ${main[side].p50.toFixed(0)} ms), and the raw database alone — the same two statements, nothing signed, no HTTP — ${integer.format(main.raw.rate)}/s at 32 callers (p99 ${main.raw.p99.toFixed(0)} ms).`
  );
}

function figuresOf({ kind, main, oneLicense }, command) {
  const db = LABEL[kind];
  const postgres = kind === 'postgres';
  const refreshWhat = `autocannon -c ${CONNECTIONS}: POST ${REFRESH_PATH}, Authorization: Bearer <license key>, 2 licenses per connection`;
  const fewWhat = `autocannon -c ${FEW_CONNECTIONS}: POST ${REFRESH_PATH}, Authorization: Bearer <license key>, 8 licenses per connection`;
  const inProcessWhat = `keyRefresher(app)(key), the in-process refresh (the route's licenseByKey + refreshWithKey, signing included), ${CONNECTIONS} concurrent callers`;
  const rawWhat = `rawRefresher(app)(key): the refresh's 2 statements (key lookup, token write) with the same parameters sent straight to the database handle, nothing signed, ${CONNECTIONS} concurrent callers`;
  const figures = [
    {
      name: `store refresh on ${db}, against the in-process refresh`,
      ours: { what: refreshWhat, value: main.refresh.rate },
      baseline: { what: inProcessWhat, value: main.inProcess.rate },
      unit: 'req/s',
      ratio: ratioOf(main, 'refresh', 'inProcess'),
      goal: { op: '>=', value: 0.7 },
      why: throughputWhy(kind, main),
      profile: PROFILES[kind],
    },
    {
      name: `store refresh on ${db}, p99 latency (${CONNECTIONS} connections)`,
      issue: postgres ? 9 : 4,
      ours: { what: `p99 of every 2xx of: ${refreshWhat}`, value: main.refresh.p99 },
      baseline: { what: `p99 of: ${inProcessWhat}`, value: main.inProcess.p99 },
      unit: 'ms',
      ratio: { median: main.refresh.p99 / main.inProcess.p99 },
      goal: { op: '<=', value: 50, of: 'rate' },
      why: latencyWhy(db, main, 'refresh', CONNECTIONS),
      profile: PROFILES[kind],
    },
    {
      name: `store refresh on ${db}, p99 latency (${FEW_CONNECTIONS} connections)`,
      issue: 9,
      ours: { what: `p99 of every 2xx of: ${fewWhat}`, value: main.refreshFew.p99 },
      baseline: { what: `p99 of: ${inProcessWhat}`, value: main.inProcess.p99 },
      unit: 'ms',
      ratio: { median: main.refreshFew.p99 / main.inProcess.p99 },
      ...(postgres ? {} : { goal: { op: '<=', value: 50, of: 'rate' } }),
      why: latencyWhy(db, main, 'refreshFew', FEW_CONNECTIONS),
      profile: PROFILES[kind],
    },
    {
      name: `store refresh on ${db}, against the HTTP limit`,
      issue: 9,
      ours: { what: refreshWhat, value: main.refresh.rate },
      baseline: {
        what: `autocannon -c ${CONNECTIONS}: POST ${READY_PATH} of the same server (a token signed at start-up), same headers and body`,
        value: main.httpLimit.rate,
      },
      unit: 'req/s',
      ratio: ratioOf(main, 'refresh', 'httpLimit'),
      ...(postgres
        ? {
            goal: { op: '>=', value: 0.15 },
            why: `a refresh is the route (${integer.format(main.httpLimit.rate)}/s alone), two statements (the raw database alone: ${integer.format(main.raw.rate)}/s) and an Ed25519 signature, all on 2 cores shared with PostgreSQL and autocannon: the CPU of each adds up.`,
            profile: PROFILES[kind],
          }
        : {}),
    },
    {
      name: `store refresh on ${db}, in-process refresh against the raw database`,
      issue: 9,
      ours: { what: inProcessWhat, value: main.inProcess.rate },
      baseline: { what: rawWhat, value: main.raw.rate },
      unit: 'req/s',
      ratio: ratioOf(main, 'inProcess', 'raw'),
    },
    {
      name: `store refresh on ${db}, with the issuance-log queue row / without it`,
      issue: 7,
      ours: { what: `${inProcessWhat}, each token queued for the log`, value: main.inProcess.rate },
      baseline: {
        what: `keyRefresher(app, client, { issuanceLog: false }) in-process: the same, the queue row left out of the write`,
        value: main.inProcessNoLog.rate,
      },
      unit: 'req/s',
      ratio: ratioOf(main, 'inProcess', 'inProcessNoLog'),
      goal: { op: '>=', value: 0.9 },
      why: "the log adds a row to the refresh's one write statement (log_pending: kind, the token's hash and its entry's leaf hash, computed where it is signed, a time; the row and its primary key cost 0.1–0.2 ms of PGlite's executor, noisy), and the sequencer (every 500 ms, in the same process) moves each batch of 128 into the tree in one statement, log_sequence (migration 0017: the entry refers to the token's row, nothing is read back, hashed in JavaScript or copied; 30–50 ms of executor per 1,000 tokens on PGlite, was 54–66 in five statements, timed with a scratch patch). On PGlite every request waits for the one executor, so both add up directly; on PostgreSQL they run beside the refreshes. What is left is the queue row itself: a durable, ordered record of each token that the sequencer can find without scanning, written in the token's own statement. Dropping its primary key made the sequencer sort the queue (81–109 ms per 1,000, same scratch timing); an unlogged queue would be lost in a crash. BENCHMARKS.md, 2026-12-07 second session",
    },
    {
      name: `store refresh on ${db}, all ${CONNECTIONS} connections on one license`,
      ours: {
        what: `${refreshWhat.replace(', 2 licenses per connection', '')}, one license`,
        value: oneLicense.refresh.rate,
      },
      baseline: { what: `${inProcessWhat}, one license`, value: oneLicense.inProcess.rate },
      unit: 'req/s',
      ratio: ratioOf(oneLicense, 'refresh', 'inProcess'),
    },
  ];
  if (main.previous) {
    figures.push({
      name: `store refresh on ${db}, against the previous commit`,
      issue: 9,
      command: `${BASELINE_COMMAND} ${command}`,
      ours: { what: refreshWhat, value: main.refresh.rate },
      baseline: {
        what: `the same load on the previous commit's store (BENCH_STORE_BASELINE), same process, rounds interleaved`,
        value: main.previous.rate,
      },
      unit: 'req/s',
      ratio: ratioOf(main, 'refresh', 'previous'),
      ...(postgres ? { goal: { op: '>=', value: 1.5 } } : {}),
    });
    figures.push({
      name: `store refresh on ${db}, p99 latency (${FEW_CONNECTIONS} connections) against the previous commit`,
      issue: 9,
      command: `${BASELINE_COMMAND} ${command}`,
      ours: { what: `p99 of every 2xx of: ${fewWhat}`, value: main.refreshFew.p99 },
      baseline: {
        what: `p99 of the same load on the previous commit's store (BENCH_STORE_BASELINE), same process, rounds interleaved`,
        value: main.previousFew.p99,
      },
      unit: 'ms',
      ratio: { median: main.refreshFew.p99 / main.previousFew.p99 },
    });
  }
  return figures.map((figure) => ({ group: 'store', issue: 4, command, ...figure }));
}

function sideRows(label, side) {
  const codes = Object.entries(side.statusCodes)
    .filter(([code]) => !/^2\d\d$/.test(code))
    .map(([code, n]) => `${code}: ${n}`)
    .join(', ');
  return (
    `| ${label} | ${integer.format(side.rate)}/s | ${side.rates.map((rate) => integer.format(rate)).join(', ')} | ` +
    `${integer.format(side.count)} | ${side.p50.toFixed(1)} ms | ${side.p99.toFixed(1)} ms | ` +
    `${side.non2xx}${codes ? ` (${codes})` : ''} | ${side.errors} | ` +
    `${side.rampSeconds.length === 0 ? '—' : `${Math.max(...side.rampSeconds).toFixed(2)} s`} |`
  );
}

function detailsOf(results, notes) {
  const lines = [
    '### Store (issues 4 and 9): every side',
    '',
    `One store in the bench process per database (Fastify on 127.0.0.1, logger off, otherwise the defaults: outbox worker, billing timer and jobs on), ${LICENSES} licenses of photon/pro-monthly bought through the test provider. autocannon 9 runs in a child process (\`bench/lib/load.mjs\`), ${CONNECTIONS} connections, no pipelining; the in-process refresh and the raw database run in the server's process. After ${WARMUP_SECONDS} s of warm-up per side, ${ROUNDS} rounds of ${ROUND_SECONDS} s per side in alternating order (then ${SINGLE_ROUNDS} rounds on one license). Each autocannon run opens its ${CONNECTIONS} connections anew; its measured window opens once every connection has had an answer (ramp: the longest such wait of any round) and lasts ${ROUND_SECONDS} s. Rates: median of the per-round rates; latencies: over every 2xx answer in the windows of all rounds. Every non-2xx answer or failed call is counted below; a run with any is not a valid figure.`,
    '',
    '| database, side | req/s | per round | answers | p50 | p99 | non-2xx | errors | ramp |',
    '|---|---:|---|---:|---:|---:|---|---:|---:|',
  ];
  for (const result of results) {
    const db = LABEL[result.kind];
    lines.push(sideRows(`${db}: refresh (HTTP, ${CONNECTIONS} connections)`, result.main.refresh));
    lines.push(
      sideRows(`${db}: refresh (HTTP, ${FEW_CONNECTIONS} connections)`, result.main.refreshFew),
    );
    lines.push(sideRows(`${db}: HTTP limit (ready token)`, result.main.httpLimit));
    lines.push(sideRows(`${db}: in-process refresh`, result.main.inProcess));
    lines.push(sideRows(`${db}: in-process refresh, no issuance log`, result.main.inProcessNoLog));
    lines.push(sideRows(`${db}: raw database (2 statements)`, result.main.raw));
    if (result.main.previous) {
      lines.push(
        sideRows(
          `${db}: refresh, previous commit's store (${CONNECTIONS} connections)`,
          result.main.previous,
        ),
      );
      lines.push(
        sideRows(
          `${db}: refresh, previous commit's store (${FEW_CONNECTIONS} connections)`,
          result.main.previousFew,
        ),
      );
    }
    lines.push(sideRows(`${db}: refresh, one license`, result.oneLicense.refresh));
    lines.push(sideRows(`${db}: in-process refresh, one license`, result.oneLicense.inProcess));
  }
  lines.push('');
  for (const result of results) {
    const ramp = Math.max(
      ...result.main.refresh.rampSeconds,
      ...result.oneLicense.refresh.rampSeconds,
    );
    lines.push(
      `- ${LABEL[result.kind]}: a refreshed token is ${result.lengths.refresh} characters, the ready token ${result.lengths.ready}. ` +
        `Under refresh load the server took up to ${ramp.toFixed(2)} s to give each of a run's ${CONNECTIONS} new connections its first answer.`,
    );
  }
  lines.push(
    '',
    "On PGlite on the server's thread (the previous commit's side; LICENSEKIT_PGLITE_WORKER=0) a refresh never waits for I/O, so the statements of the queued refreshes run back to back inside one turn of the event loop; the server then accepted the new connections of a run about one per turn, each turn longer than the last (seen with a connection listener: 32 accepts spread over about 1.4 s, while a connection opened once all were busy was answered in 0.25–0.45 s). With PGlite in its worker thread the server's thread waits for the rows instead, and accepts in between. That wait is kept out of the windows above and shown as the ramp.",
  );
  for (const note of notes) lines.push('', note);
  return lines.join('\n');
}

/** Why PostgreSQL cannot be measured here, or undefined when it can. */
async function postgresUnavailable(adminUrl) {
  if (!adminUrl) {
    return 'LICENSEKIT_TEST_DATABASE_URL is not set (a PostgreSQL role that may CREATE DATABASE; .ci/run sets one)';
  }
  try {
    const admin = await openPostgres({ connectionString: adminUrl, max: 1 });
    await admin.close();
    return undefined;
  } catch (error) {
    return `cannot connect: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The `store` group of bench/run.mjs. */
export async function benchStore() {
  const adminUrl = process.env.LICENSEKIT_TEST_DATABASE_URL;
  const baselineDir = process.env.BENCH_STORE_BASELINE;
  const baselineModules = baselineDir ? await checkoutModules(baselineDir) : undefined;
  const load = startLoad();
  const results = [];
  const notes = [];
  const figures = [];
  try {
    const pglite = await benchDatabase('pglite', undefined, load, baselineModules);
    results.push(pglite);
    figures.push(...figuresOf(pglite, COMMAND));
    const unavailable = await postgresUnavailable(adminUrl);
    if (unavailable) {
      const note = `PostgreSQL: not measured (${unavailable}).`;
      console.error(`bench: ${note}`);
      notes.push(note);
    } else {
      const postgres = await benchDatabase('postgres', adminUrl, load, baselineModules);
      results.push(postgres);
      figures.push(...figuresOf(postgres, POSTGRES_COMMAND));
    }
  } finally {
    load.close();
  }
  const details = detailsOf(results, notes);
  console.error(`\n${details}\n`);
  return { figures, details: [details] };
}

/**
 * For bench/profile.mjs: one store on `kind`, its licenses bought and a warm-up done, then
 * `measure(run)` with `run(seconds)` loading it as the refresh side (`side` 'refresh') or
 * the in-process refresh ('in-process'; 'db-limit', its former name, still works) does.
 */
export async function withLoadedStore(kind, side, measure) {
  const adminUrl = process.env.LICENSEKIT_TEST_DATABASE_URL;
  if (kind === 'postgres') {
    const unavailable = await postgresUnavailable(adminUrl);
    if (unavailable) throw new Error(`PostgreSQL: ${unavailable}`);
  }
  const store = await openBenchStore(kind, adminUrl);
  const load = startLoad();
  try {
    const spread = keysPerConnection(await buyLicenses(store.url, LICENSES));
    const refresh = keyRefresher(store.app);
    const run =
      side === 'in-process' || side === 'db-limit'
        ? (duration) => inProcess(refresh, spread, duration)
        : (duration) =>
            load.run({
              url: store.url,
              connections: CONNECTIONS,
              seconds: duration,
              maxRequests: MAX_REQUESTS_PER_ROUND,
              perConnection: requestsFor(REFRESH_PATH, spread),
            });
    await run(WARMUP_SECONDS);
    return await measure(run);
  } finally {
    load.close();
    await store.close();
  }
}
