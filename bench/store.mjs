/**
 * Issue 4: the store's refresh under load, on PGlite and on PostgreSQL. For each database
 * one store runs in this process (port 0 on 127.0.0.1, no logger, the bench route on),
 * 64 licenses are bought through the test provider, and three sides run in interleaved
 * rounds of a fixed duration:
 * - refresh: autocannon (a child process, bench/lib/load.mjs), 32 connections, POST
 *   /v1/licenses/refresh with `Authorization: Bearer <license key>` and `{}`; each
 *   connection cycles through 2 licenses of its own, so row locks do not queue the
 *   connections behind each other;
 * - the HTTP limit: the same requests to POST /v1/bench/ready-token of the same server,
 *   which answers a token signed at start-up (packages/store/src/routes/bench.ts);
 * - the database limit: what the route runs — the license lookup and refreshWithKey —
 *   called in this process by 32 concurrent callers on the same licenses, against the
 *   same database (packages/store/src/bench.ts, dist/bench.js).
 * Then a context figure: all 32 connections (and callers) on one license.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, keyRefresher } from '../packages/store/dist/bench.js';
import { buildStore, openPglite, openPostgres } from '../packages/store/dist/index.js';
import { median, quantile } from './lib/interleave.mjs';
import { startLoad } from './lib/load.mjs';

const COMMAND = 'pnpm bench store';
const POSTGRES_COMMAND = 'LICENSEKIT_TEST_DATABASE_URL=… pnpm bench store';
const CONNECTIONS = 32;
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

/**
 * A store in this process on a fresh database: PGlite in a temporary directory, or a new
 * PostgreSQL database created through `adminUrl` and dropped by close().
 */
export async function openBenchStore(kind, adminUrl) {
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
    // cannot turn this side into PostgreSQL.
    db = await openPglite({ dataDir: join(dataDir, 'db') });
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
  if (warmup > 0) for (const name of names) await sides[name](warmup);
  const outcome = Object.fromEntries(
    names.map((name) => [
      name,
      { rates: [], latencies: [], non2xx: 0, errors: 0, statusCodes: {}, rampSeconds: [] },
    ]),
  );
  for (let round = 0; round < count; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const result = await sides[name](ROUND_SECONDS);
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

async function benchDatabase(kind, adminUrl, load) {
  const store = await openBenchStore(kind, adminUrl);
  try {
    const keys = await buyLicenses(store.url, LICENSES);
    const refresh = keyRefresher(store.app);
    const refreshWithoutLog = keyRefresher(store.app, '127.0.0.1', { issuanceLog: false });
    const spread = keysPerConnection(keys);
    const single = keysPerConnection([keys[0]], 1);
    const http = (path, keyLists) => (duration) =>
      load.run({
        url: store.url,
        connections: CONNECTIONS,
        seconds: duration,
        maxRequests: MAX_REQUESTS_PER_ROUND,
        perConnection: requestsFor(path, keyLists),
      });

    const main = await rounds(
      {
        refresh: http(REFRESH_PATH, spread),
        httpLimit: http(READY_PATH, spread),
        dbLimit: (duration) => inProcess(refresh, spread, duration),
        dbLimitNoLog: (duration) => inProcess(refreshWithoutLog, spread, duration),
      },
      { rounds: ROUNDS, warmup: WARMUP_SECONDS },
    );
    const oneLicense = await rounds(
      {
        refresh: http(REFRESH_PATH, single),
        dbLimit: (duration) => inProcess(refresh, Array(CONNECTIONS).fill(single[0]), duration),
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
    await store.close();
  }
}

/** What `node bench/profile.mjs store-refresh-<database>` showed (issue 4, 2 cores, loaded). */
const PROFILES = {
  pglite:
    "`node bench/profile.mjs store-refresh-pglite`: PGlite ≈ 65% of the server's samples (its WebAssembly executor execProtocolRawSync ≈ 53%, result parsing ≈ 14%), on the server's own thread and one statement at a time: each refresh runs 7 (the key lookup, then in one transaction BEGIN, SELECT … FOR UPDATE of the license in services/billing.ts lockCurrentLicense, the plan, INSERT INTO tokens, UPDATE licenses, COMMIT); Fastify writing the reply ≈ 9%; issuer issue (Ed25519 sign) ≈ 3%.",
  postgres:
    "`node bench/profile.mjs store-refresh-postgres`: writev system calls ≈ 40% of the server's samples, almost all of them pg sending a refresh's 7 statements to PostgreSQL one round trip each (key lookup; BEGIN; SELECT … FOR UPDATE of the license in services/billing.ts lockCurrentLicense; the plan; INSERT INTO tokens; UPDATE licenses; COMMIT); pg result parsing ≈ 12%; Fastify writing the reply ≈ 13%; issuer issue (Ed25519 sign) ≈ 3%.",
};

/** One line: why refresh falls short of the database limit, when it does. */
function throughputWhy(kind, main) {
  const ratio = ratioOf(main, 'refresh', 'dbLimit');
  const spread = `per-round ratios ${ratio.low.toFixed(2)}–${ratio.high.toFixed(2)}`;
  const shared =
    kind === 'postgres'
      ? 'the server, the PostgreSQL backends and autocannon share the 2 cores, and only the refresh side has a load generator taking its share: the database-limit side leaves that CPU to the server and PostgreSQL'
      : "PGlite runs on the server's thread, so HTTP work (parsing, schemas, hooks, the reply) and database work take turns on one core";
  return `HTTP and Fastify cost what the HTTP limit of this run shows (${integer.format(main.httpLimit.rate)}/s of a route that does nothing else); beyond that, ${shared} (${spread}: how busy the machine was moved them).`;
}

/** One line: why the p99 goal is missed (Little's law for a closed loop of connections). */
function latencyWhy(db, main) {
  const mean = (CONNECTIONS * 1000) / main.dbLimit.rate;
  const needed = (CONNECTIONS * 1000) / 50;
  const alone =
    main.dbLimit.p99 > 50
      ? 'so the database work alone, without HTTP, already misses the goal'
      : `so the database work alone meets it and HTTP adds the rest (refresh runs at ${ratioOf(main, 'refresh', 'dbLimit').median.toFixed(2)}× the database limit)`;
  return (
    `${CONNECTIONS} connections that always have a request waiting see on average ${CONNECTIONS} / rate (Little's law), so a p99 of 50 ms needs well over ${integer.format(needed)} refreshes/s; ` +
    `this run's database limit on ${db} was ${integer.format(main.dbLimit.rate)}/s (mean ${mean.toFixed(0)} ms) with a p99 of its own of ${main.dbLimit.p99.toFixed(0)} ms, ${alone}.`
  );
}

function figuresOf({ kind, main, oneLicense }, command) {
  const db = LABEL[kind];
  const refreshWhat = `autocannon -c ${CONNECTIONS}: POST ${REFRESH_PATH}, Authorization: Bearer <license key>, 2 licenses per connection`;
  const dbWhat = `keyRefresher(app)(key) in-process (the route's licenseByKey + refreshWithKey), ${CONNECTIONS} concurrent callers`;
  const figures = [
    {
      name: `store refresh on ${db}, against the database limit`,
      ours: { what: refreshWhat, value: main.refresh.rate },
      baseline: { what: dbWhat, value: main.dbLimit.rate },
      unit: 'req/s',
      ratio: ratioOf(main, 'refresh', 'dbLimit'),
      goal: { op: '>=', value: 0.7 },
      why: throughputWhy(kind, main),
      profile: PROFILES[kind],
    },
    {
      name: `store refresh on ${db}, p99 latency (${CONNECTIONS} connections)`,
      ours: { what: `p99 of every 2xx of: ${refreshWhat}`, value: main.refresh.p99 },
      baseline: { what: `p99 of: ${dbWhat}`, value: main.dbLimit.p99 },
      unit: 'ms',
      ratio: { median: main.refresh.p99 / main.dbLimit.p99 },
      goal: { op: '<=', value: 50, of: 'rate' },
      why: latencyWhy(db, main),
      profile: PROFILES[kind],
    },
    {
      name: `store refresh on ${db}, against the HTTP limit`,
      ours: { what: refreshWhat, value: main.refresh.rate },
      baseline: {
        what: `autocannon -c ${CONNECTIONS}: POST ${READY_PATH} of the same server (a token signed at start-up), same headers and body`,
        value: main.httpLimit.rate,
      },
      unit: 'req/s',
      ratio: ratioOf(main, 'refresh', 'httpLimit'),
    },
    {
      name: `store refresh on ${db}, with the issuance-log append / without it`,
      issue: 7,
      ours: { what: `${dbWhat}, appending each token to the log`, value: main.dbLimit.rate },
      baseline: {
        what: `keyRefresher(app, client, { issuanceLog: false }) in-process: the same, the append skipped`,
        value: main.dbLimitNoLog.rate,
      },
      unit: 'req/s',
      ratio: ratioOf(main, 'dbLimit', 'dbLimitNoLog'),
      goal: { op: '>=', value: 0.9 },
      why: 'the append adds two statements to the refresh transaction (lock the log head, write the entry, its completed subtrees and the new head) and holds the head lock until COMMIT, so concurrent refreshes queue on it for that long',
    },
    {
      name: `store refresh on ${db}, all ${CONNECTIONS} connections on one license`,
      ours: {
        what: `${refreshWhat.replace(', 2 licenses per connection', '')}, one license`,
        value: oneLicense.refresh.rate,
      },
      baseline: { what: `${dbWhat}, one license`, value: oneLicense.dbLimit.rate },
      unit: 'req/s',
      ratio: ratioOf(oneLicense, 'refresh', 'dbLimit'),
    },
  ];
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
    '### Store (issue 4): every side',
    '',
    `One store in the bench process per database (Fastify on 127.0.0.1, logger off, otherwise the defaults: outbox worker, billing timer and jobs on), ${LICENSES} licenses of photon/pro-monthly bought through the test provider. autocannon 9 runs in a child process (\`bench/lib/load.mjs\`), ${CONNECTIONS} connections, no pipelining; the database limit runs in the server's process. After ${WARMUP_SECONDS} s of warm-up per side, ${ROUNDS} rounds of ${ROUND_SECONDS} s per side in alternating order (then ${SINGLE_ROUNDS} rounds on one license). Each autocannon run opens its ${CONNECTIONS} connections anew; its measured window opens once every connection has had an answer (ramp: the longest such wait of any round) and lasts ${ROUND_SECONDS} s. Rates: median of the per-round rates; latencies: over every 2xx answer in the windows of all rounds. Every non-2xx answer or failed call is counted below; a run with any is not a valid figure.`,
    '',
    '| database, side | req/s | per round | answers | p50 | p99 | non-2xx | errors | ramp |',
    '|---|---:|---|---:|---:|---:|---|---:|---:|',
  ];
  for (const result of results) {
    const db = LABEL[result.kind];
    lines.push(sideRows(`${db}: refresh (HTTP)`, result.main.refresh));
    lines.push(sideRows(`${db}: HTTP limit (ready token)`, result.main.httpLimit));
    lines.push(sideRows(`${db}: database limit (in-process)`, result.main.dbLimit));
    lines.push(sideRows(`${db}: in-process, no issuance log`, result.main.dbLimitNoLog));
    lines.push(sideRows(`${db}: refresh, one license`, result.oneLicense.refresh));
    lines.push(sideRows(`${db}: database limit, one license`, result.oneLicense.dbLimit));
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
    "On PGlite the database runs on the server's thread and a refresh never waits for I/O, so the statements of the queued refreshes run back to back inside one turn of the event loop; the server then accepted the new connections of a run about one per turn, each turn longer than the last (seen with a connection listener: 32 accepts spread over about 1.4 s, while a connection opened once all were busy was answered in 0.25–0.45 s). That wait is kept out of the windows above and shown as the ramp.",
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
  const load = startLoad();
  const results = [];
  const notes = [];
  const figures = [];
  try {
    const pglite = await benchDatabase('pglite', undefined, load);
    results.push(pglite);
    figures.push(...figuresOf(pglite, COMMAND));
    const unavailable = await postgresUnavailable(adminUrl);
    if (unavailable) {
      const note = `PostgreSQL: not measured (${unavailable}).`;
      console.error(`bench: ${note}`);
      notes.push(note);
    } else {
      const postgres = await benchDatabase('postgres', adminUrl, load);
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
 * the database-limit side ('db-limit') does.
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
      side === 'db-limit'
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
