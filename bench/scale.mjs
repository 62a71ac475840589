/**
 * Issue 8, the figures: refresh and checkout throughput and latency at 1, 32 and 256
 * connections on three deployments, each a real `licensekit serve` process (LOG_LEVEL=warn,
 * otherwise the defaults):
 * - PGlite: one instance on its own data directory;
 * - PostgreSQL, one instance: instance A on a scratch database;
 * - PostgreSQL, two instances: A and B on that same database and data directory (keys),
 *   A started first; the load's connections alternate between them.
 * The sides of a (request, connections) pair run in interleaved rounds, so the two-instance
 * ratio is against one instance at the same moments. Around every run the CPU time of the
 * store processes, of PostgreSQL (the scratch database's backends and the server's
 * background processes) and of the load generator is read from /proc, and PostgreSQL's
 * backends are sampled for what they wait on; from those come the per-request CPU cost and
 * the model of N instances on a separate database host. Instance B runs under
 * `node --cpu-prof`; its samples during the two-instance refresh runs are summarised.
 *
 * The load generator is autocannon in a child process, as bench/lib/load.mjs runs it, with
 * two things that runner has not: several target URLs (the two instances), and a fresh
 * Idempotency-Key on every checkout (autocannon's idReplacement). `--load-child` is that
 * child. Every figure goes to BENCHMARKS.md by hand from bench/results/scale.{json,md}.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, quantile } from './lib/interleave.mjs';

const HERE = fileURLToPath(import.meta.url);
const ROOT = join(HERE, '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'licensekit.mjs');
const RESULTS = join(ROOT, 'bench', 'results');

const COMMAND = 'LICENSEKIT_TEST_DATABASE_URL=… pnpm bench scale';
/** BENCH_SCALE_CONNECTIONS (e.g. "1,32") narrows a development run; 32 must stay. */
const CONNECTION_COUNTS = (process.env.BENCH_SCALE_CONNECTIONS ?? '1,32,256')
  .split(',')
  .map(Number);
/** One license per connection at the most: no two connections queue on one row lock. */
const LICENSES = Math.max(...CONNECTION_COUNTS);
/** BENCH_SCALE_ROUNDS / BENCH_SCALE_SECONDS shorten a development run. */
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 5);
const ROUND_SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 3);
const WARMUP_SECONDS = 1;
/** The scale-out goal of issue 8, where the cores allow. */
const SCALE_GOAL = 1.6;
/**
 * How long a run waits for an answer on every connection before its window opens anyway:
 * a busy PGlite store accepts new connections about two a second (BENCHMARKS.md).
 */
const MAX_RAMP_SECONDS = 20;
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

// ---------------------------------------------------------------------------------------
// /proc: CPU time and memory of processes, and of the machine

/** utime + stime of a process (all its threads), in seconds; undefined once it is gone. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in brackets and may hold spaces: fields count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes (VmRSS), undefined once it is gone. */
export function residentBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** The machine's CPU seconds, busy and in all (every core), from /proc/stat. */
function machineCpu() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: (total - idle - iowait) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/**
 * Formats written results with the repository's formatter (as bench/lib/report.mjs does
 * for BENCHMARKS.md), so that a fresh run leaves `biome ci` clean.
 */
export function formatResults(paths) {
  const biome = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'biome'),
    ['format', '--write', ...paths],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (biome.status !== 0)
    console.error(
      `bench: biome did not format ${paths.join(', ')}: ${biome.error?.message ?? biome.stderr}`,
    );
}

// ---------------------------------------------------------------------------------------
// `licensekit serve` processes

/**
 * Starts `licensekit serve` on 127.0.0.1, a free port, and waits for its "listening on"
 * line. `databaseUrl` undefined = PGlite in `dataDir` (an inherited DATABASE_URL is
 * cleared, so it cannot turn this into PostgreSQL). `nodeArgs` go before the script
 * (--cpu-prof). The store logs at warn: a log line per request would be the load
 * generator's work, not the store's, once piped here.
 */
export async function startServe({ dataDir, databaseUrl, nodeArgs = [], env = {} }) {
  const child = spawn(
    process.execPath,
    [...nodeArgs, BIN, 'serve', '--data', dataDir, '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-4000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start in 120 s:\n${output}`)),
      120_000,
    );
    child.stderr.on('data', (chunk) => {
      keep(chunk);
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid,
    output: () => output,
    /** SIGTERM (the store closes cleanly, --cpu-prof writes its file), SIGKILL after 30 s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Buys `count` licenses of photon/pro-monthly (test provider), 8 at a time; their keys. */
export async function buyLicenses(url, count, label = 'bench') {
  const keys = [];
  const buyOne = async (index) => {
    const response = await fetch(`${url}/v1/checkout`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `${label}-${index}-${process.hrtime.bigint()}`,
      },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: `${label}-${index}@example.com`,
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

// ---------------------------------------------------------------------------------------
// Requests

/** A refresh by license key, as an app's client sends it. */
export function refreshRequest(key) {
  return {
    method: 'POST',
    path: '/v1/licenses/refresh',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: '{}',
  };
}

/** A purchase through the test provider; each `[<id>]` becomes a fresh id on every request. */
export const CHECKOUT_REQUEST = {
  method: 'POST',
  path: '/v1/checkout',
  headers: { 'content-type': 'application/json', 'idempotency-key': 'scale-[<id>]' },
  // A customer of its own too: one shared e-mail would make every checkout queue on one row.
  body: JSON.stringify({
    productId: 'photon',
    planId: 'pro-monthly',
    email: 'scale-[<id>]@example.com',
  }),
};

/** Connection i refreshes keys[i], keys[i + n], … in turn (n = connections). */
function refreshLists(keys, connections) {
  return Array.from({ length: connections }, (_, connection) =>
    keys.filter((_, index) => index % connections === connection).map(refreshRequest),
  );
}

// ---------------------------------------------------------------------------------------
// The load generator (a child process)

/**
 * @returns {{ pid: number, run(options): Promise<object>, close(): void }} where run takes
 *   { urls, connections, seconds, perConnection, idReplacement } and answers as
 *   bench/lib/load.mjs does, plus `answered` (every answer, ramp and window alike)
 */
export function startScaleLoad() {
  const child = fork(HERE, ['--load-child'], { stdio: 'inherit' });
  let next = 0;
  const pending = new Map();
  child.on('message', ({ id, result, error }) => {
    const waiting = pending.get(id);
    pending.delete(id);
    if (error) waiting?.reject(new Error(`load generator: ${error}`));
    else waiting?.resolve(result);
  });
  child.on('exit', (code) => {
    for (const { reject } of pending.values()) reject(new Error(`load generator exited (${code})`));
    pending.clear();
  });
  return {
    pid: child.pid,
    run(options) {
      for (const url of options.urls) {
        if (new URL(url).hostname !== '127.0.0.1')
          throw new Error(`load only to 127.0.0.1, not ${url}`);
      }
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, options });
      });
    },
    close() {
      child.disconnect();
    },
  };
}

/**
 * One autocannon run over `urls` (connection i goes to urls[i % urls.length]) whose window
 * opens once every connection has had an answer and lasts `seconds`; only answers inside
 * it count as throughput and latency. The same window rule as bench/lib/load.mjs, with a
 * cap: a store that leaves connections unanswered for MAX_RAMP_SECONDS (PGlite at 256
 * connections does) gets its window opened anyway, and the connections still without an
 * answer then (`starvedAtWindow`) and at the end (`starvedAtEnd`) are reported.
 */
async function runAutocannon({ urls, connections, seconds, perConnection, idReplacement }) {
  const { default: autocannon } = await import('autocannon');
  const now = () => process.hrtime.bigint();
  const started = now();
  let connection = 0;
  const latencies = [];
  const statusCodes = {};
  const answered = new Set();
  let ok = 0;
  let non2xx = 0;
  let total = 0;
  let windowStart;
  let windowEnd;
  let starvedAtWindow = 0;
  const instance = autocannon({
    url: urls,
    connections,
    // A cap: the window ends the run, by stop(), long before this.
    duration: seconds + MAX_RAMP_SECONDS + 10,
    timeout: 30,
    idReplacement,
    requests: perConnection[0],
    setupClient(client) {
      client.setRequests(perConnection[connection++ % perConnection.length]);
    },
  });
  const openWindow = (at) => {
    if (windowStart !== undefined) return;
    clearTimeout(rampCap);
    windowStart = at;
    windowEnd = at + BigInt(Math.round(seconds * 1e9));
    starvedAtWindow = connections - answered.size;
    setTimeout(() => instance.stop(), seconds * 1000 + 50);
  };
  const rampCap = setTimeout(() => openWindow(now()), MAX_RAMP_SECONDS * 1000);
  instance.on('response', (client, statusCode, _bytes, responseTime) => {
    const at = now();
    total++;
    if (windowEnd !== undefined && at > windowEnd) return;
    answered.add(client);
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    const success = statusCode >= 200 && statusCode < 300;
    // Failures count wherever they happen; successes only inside the window.
    if (!success) non2xx++;
    if (windowStart === undefined) {
      if (answered.size === connections) openWindow(at);
    } else if (success) {
      ok++;
      latencies.push(responseTime);
    }
  });
  const result = await instance;
  clearTimeout(rampCap);
  if (windowStart === undefined) throw new Error('the run ended before its window opened');
  return {
    seconds: Number(windowEnd - windowStart) / 1e9,
    rampSeconds: Number(windowStart - started) / 1e9,
    ok,
    non2xx,
    answered: total,
    starvedAtWindow,
    starvedAtEnd: connections - answered.size,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencies,
  };
}

/**
 * `node bench/scale.mjs --render` rewrites bench/results/scale.md and prints the figures
 * from bench/results/scale.json, without measuring: for a change to how they are written.
 */
async function render() {
  const { resultsTable } = await import('./lib/report.mjs');
  const saved = JSON.parse(readFileSync(join(RESULTS, 'scale.json'), 'utf8'));
  const profiled = { ...saved.profile, spanned: true };
  const details = detailsOf(saved.results, profiled, []);
  writeFileSync(join(RESULTS, 'scale.md'), `${details.text}\n`);
  formatResults([join(RESULTS, 'scale.md')]);
  const figures = figuresOf(saved.results, {
    why: whyLine(saved.results),
    profile: profileLine(profiled),
  });
  console.log(
    `${resultsTable(figures)}\n\n${saved.command}, ${saved.date}\n\nwrote bench/results/scale.md`,
  );
}

if (process.argv.includes('--load-child')) {
  process.on('message', async ({ id, options }) => {
    try {
      process.send({ id, result: await runAutocannon(options) });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

// ---------------------------------------------------------------------------------------
// PostgreSQL, watched from outside: CPU of its processes, and what its backends wait on

/**
 * The scratch database's backends and the server's background processes (checkpointer,
 * WAL writer, autovacuum…: shared with whatever else uses this server, but under this load
 * they work for it), read through pg_stat_activity; their CPU from /proc when the server
 * runs on this machine (`local`).
 */
async function watchPostgres(openPostgres, adminUrl, database) {
  const admin = await openPostgres({ connectionString: adminUrl, max: 1 });
  const [{ pid }] = await admin.query('SELECT pg_backend_pid() AS pid');
  const local = processCpuSeconds(pid) !== undefined;
  const processes = async () =>
    admin.query(
      `SELECT pid, backend_type AS type, datname, state, wait_event_type, wait_event
         FROM pg_stat_activity WHERE pid <> pg_backend_pid()`,
    );
  const ours = (row) =>
    row.type === 'client backend' ? row.datname === database : row.type !== 'walsender';
  return {
    local,
    /** pid → CPU seconds of our processes now. */
    async cpu() {
      const snapshot = new Map();
      if (!local) return snapshot;
      for (const row of await processes()) {
        if (!ours(row)) continue;
        const seconds = processCpuSeconds(row.pid);
        if (seconds !== undefined)
          snapshot.set(row.pid, { seconds, background: row.type !== 'client backend' });
      }
      return snapshot;
    },
    /**
     * Samples the database's backends every 100 ms until stop(). Per sample and backend:
     * 'idle', 'idle in transaction' (waiting for the store's next statement, its locks
     * held), 'active' (running: on a CPU or ready for one) or what an active one waits on.
     * Apart: the backends that block others and are blocked by none (the heads of the lock
     * queues: before commit a8a77b8, the holder of the issuance log's head row) and what
     * they were doing, so a serial section can be split into the database's own time and
     * the time it waits for a store instance.
     */
    sampleWaits() {
      const counts = {};
      const holders = {};
      let samples = 0;
      let queued = 0;
      let busy = false;
      const stateOf = (row) =>
        row.state === 'active'
          ? row.wait_event_type
            ? `${row.wait_event_type}:${row.wait_event}`
            : 'active'
          : (row.state ?? 'unknown');
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          const rows = await admin.query(
            `SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blockers
               FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
            [database],
          );
          const blocking = new Set(rows.flatMap((row) => row.blockers));
          const blocked = new Set(
            rows.filter((row) => row.blockers.length > 0).map((row) => row.pid),
          );
          for (const row of rows) {
            const state = stateOf(row);
            counts[state] = (counts[state] ?? 0) + 1;
            // pg_blocking_pids is read row by row, not as one snapshot: a head that shows
            // as waiting on a lock itself was caught mid-change, and is left out.
            if (blocking.has(row.pid) && !blocked.has(row.pid) && !state.startsWith('Lock:')) {
              holders[state] = (holders[state] ?? 0) + 1;
            }
          }
          if (blocked.size > 0) queued++;
          samples++;
        } finally {
          busy = false;
        }
      }, 100);
      return () => {
        clearInterval(timer);
        return { samples, queued, counts, holders };
      };
    },
    close: () => admin.close(),
  };
}

/** CPU seconds spent between two snapshots of watchPostgres().cpu(): backends, background. */
function postgresCpuDelta(before, after) {
  let backends = 0;
  let background = 0;
  // A process that started during the run counts whole; one that ended in it is lost.
  for (const [pid, { seconds, background: isBackground }] of after) {
    const spent = seconds - (before.get(pid)?.seconds ?? 0);
    if (isBackground) background += spent;
    else backends += spent;
  }
  return { backends, background };
}

// ---------------------------------------------------------------------------------------
// Rounds

function emptySide() {
  return {
    rates: [],
    latencies: [],
    ramps: [],
    starvedAtWindow: 0,
    starvedAtEnd: 0,
    non2xx: 0,
    errors: 0,
    statusCodes: {},
    answered: 0,
    cpu: { store: 0, db: 0, dbBackground: 0, load: 0, machineBusy: 0, machineTotal: 0, wall: 0 },
    waits: { samples: 0, queued: 0, counts: {}, holders: {} },
    spans: [],
  };
}

/**
 * One load run on `deployment`, with the CPU every process spent on it (from just before
 * the connections open until the run has stopped) and, on PostgreSQL, the wait samples.
 */
async function measuredRun(
  context,
  deployment,
  perConnection,
  connections,
  seconds,
  idReplacement,
) {
  const cpuOf = (pids) => pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
  const pg = deployment.db === 'postgres' ? context.postgres : undefined;
  const before = {
    store: cpuOf(deployment.pids()),
    load: cpuOf([context.load.pid]),
    db: await pg?.cpu(),
    machine: machineCpu(),
    at: process.hrtime.bigint(),
  };
  const spanStart = Number(before.at / 1000n);
  const stopWaits = pg?.sampleWaits();
  const result = await context.load.run({
    urls: deployment.urls(),
    connections,
    seconds,
    perConnection,
    idReplacement,
  });
  const waits = stopWaits?.() ?? { samples: 0, queued: 0, counts: {}, holders: {} };
  const machine = machineCpu();
  const db = pg ? postgresCpuDelta(before.db, await pg.cpu()) : { backends: 0, background: 0 };
  result.cpu = {
    store: cpuOf(deployment.pids()) - before.store,
    load: cpuOf([context.load.pid]) - before.load,
    db: db.backends,
    dbBackground: db.background,
    machineBusy: machine.busy - before.machine.busy,
    machineTotal: machine.total - before.machine.total,
    wall: Number(process.hrtime.bigint() - before.at) / 1e9,
  };
  result.waits = waits;
  result.span = [spanStart, Number(process.hrtime.bigint() / 1000n)];
  return result;
}

function accumulate(side, result) {
  side.rates.push(result.ok / result.seconds);
  for (const latency of result.latencies) side.latencies.push(latency);
  side.ramps.push(result.rampSeconds);
  side.spans.push(result.span);
  side.starvedAtWindow = Math.max(side.starvedAtWindow, result.starvedAtWindow);
  side.starvedAtEnd = Math.max(side.starvedAtEnd, result.starvedAtEnd);
  side.non2xx += result.non2xx;
  side.errors += result.errors;
  side.answered += result.answered;
  for (const [code, n] of Object.entries(result.statusCodes))
    side.statusCodes[code] = (side.statusCodes[code] ?? 0) + n;
  for (const [key, value] of Object.entries(result.cpu)) side.cpu[key] += value;
  side.waits.samples += result.waits.samples;
  side.waits.queued += result.waits.queued;
  for (const kind of ['counts', 'holders']) {
    for (const [key, n] of Object.entries(result.waits[kind])) {
      side.waits[kind][key] = (side.waits[kind][key] ?? 0) + n;
    }
  }
}

/**
 * Every deployment for a warm-up, then ROUNDS rounds of each in alternating order: the
 * ratios between deployments are per round, so a busy moment of the shared machine lands
 * on every side of a round alike.
 */
async function interleavedRounds(context, deployments, operation, connections) {
  const sides = Object.fromEntries(deployments.map((d) => [d.name, emptySide()]));
  const requestsFor = (deployment) =>
    operation === 'checkout'
      ? [[CHECKOUT_REQUEST]]
      : refreshLists(context.keys[deployment.db], connections);
  const idReplacement = operation === 'checkout';
  for (const deployment of deployments) {
    await context.load.run({
      urls: deployment.urls(),
      connections,
      seconds: WARMUP_SECONDS,
      perConnection: requestsFor(deployment),
      idReplacement,
    });
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? deployments : [...deployments].reverse();
    for (const deployment of order) {
      const result = await measuredRun(
        context,
        deployment,
        requestsFor(deployment),
        connections,
        ROUND_SECONDS,
        idReplacement,
      );
      accumulate(sides[deployment.name], result);
    }
  }
  for (const side of Object.values(sides)) {
    side.rate = median(side.rates);
    side.p50 = side.latencies.length ? quantile(side.latencies, 0.5) : Number.NaN;
    side.p99 = side.latencies.length ? quantile(side.latencies, 0.99) : Number.NaN;
    side.count = side.latencies.length;
    side.latencies = undefined; // not kept in the results file
  }
  return sides;
}

function perRoundRatio(sides, ours, baseline) {
  const perRound = sides[ours].rates.map((rate, round) => rate / sides[baseline].rates[round]);
  return {
    median: median(perRound),
    low: quantile(perRound, 0.25),
    high: quantile(perRound, 0.75),
  };
}

// ---------------------------------------------------------------------------------------
// The profile

/**
 * Instance B runs under `node --cpu-prof` from its start; once it has stopped (and so
 * written the profile), the samples of its two-instance refresh runs at 32 connections
 * are summarised: only those spans, not start-up or the other sides' rounds.
 */
async function summariseProfile(directory, spans) {
  const { profileShares } = await import('./profile.mjs');
  const [file] = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('node --cpu-prof wrote no profile');
  const profile = JSON.parse(readFileSync(join(directory, file), 'utf8'));
  const shares = profileShares(profile, { top: 15, spans });
  // Should the clocks ever disagree, the whole profile rather than nothing.
  if (shares.samples === 0) return { ...profileShares(profile, { top: 15 }), spanned: false };
  return { ...shares, spanned: true };
}

// ---------------------------------------------------------------------------------------
// The model

/** CPU seconds per answered request of the loaded PostgreSQL sides (32 and 256 connections). */
function costsOf(results, operation) {
  const totals = { store: 0, db: 0, dbBackground: 0, answered: 0, storeByInstance: [] };
  for (const connections of CONNECTION_COUNTS.filter((c) => c > 1)) {
    for (const name of ['pg1', 'pg2']) {
      const side = results[operation][connections][name];
      totals.store += side.cpu.store;
      totals.db += side.cpu.db;
      totals.dbBackground += side.cpu.dbBackground;
      totals.answered += side.answered;
    }
  }
  return {
    server: totals.store / totals.answered,
    db: (totals.db + totals.dbBackground) / totals.answered,
    dbBackends: totals.db / totals.answered,
  };
}

/**
 * A serial section, from a side whose backends queued on a lock in (almost) every sample:
 * when every request takes the same lock (before commit a8a77b8, the issuance log's head
 * row, from its `SELECT … FOR UPDATE` to the end of its COMMIT), one transaction at a time
 * holds it and the side's rate is one over the mean time it is held. The holder's samples split that time into waiting for its store
 * instance ('idle in transaction': the next statement not sent yet) and the database's own
 * part (executing, flushing the WAL); with instances that answer at once only the latter is
 * left, which caps tokens per second over all instances.
 */
function serialSection(side) {
  const { samples, queued, holders } = side.waits;
  const held = Object.values(holders).reduce((sum, n) => sum + n, 0);
  if (samples === 0 || held === 0) return undefined;
  const waiting = ['idle in transaction', 'Client:ClientRead'].reduce(
    (sum, key) => sum + (holders[key] ?? 0),
    0,
  );
  const holdMs = 1000 / side.rate;
  const storeShare = waiting / held;
  const databaseMs = holdMs * (1 - storeShare);
  return {
    queuedShare: queued / samples,
    holdMs,
    storeShare,
    databaseMs,
    cap: 1000 / databaseMs,
    holders: Object.fromEntries(Object.entries(holders).map(([key, n]) => [key, n / held])),
  };
}

/** The serial section of the busiest PostgreSQL side that queued on a lock in ≥ 90% of samples. */
function serialOf(results, operation) {
  const candidates = CONNECTION_COUNTS.filter((c) => c > 1)
    .flatMap((c) => ['pg1', 'pg2'].map((name) => results[operation][c][name]))
    .map((side) => ({ side, serial: serialSection(side) }))
    .filter(({ serial }) => serial !== undefined && serial.queuedShare >= 0.9)
    .sort((a, b) => b.side.rate - a.side.rate);
  return candidates[0]?.serial;
}

/**
 * N store instances of `coresPerInstance` each, on hosts of their own, against a database
 * host of `dbCores`: each tier can answer at most its cores over its CPU per request, and
 * when every request queued on one lock, it passes that serial section one at a time
 * (`serialCap`, its database part: the instances are assumed to answer at once); the
 * least is the estimate. Network round trips are left out: they lengthen a serial section.
 */
export function modelThroughput({ instances, coresPerInstance = 1, dbCores, cost, serialCap }) {
  const bounds = {
    instances: (instances * coresPerInstance) / cost.server,
    database: dbCores / cost.db,
    lock: serialCap ?? Number.POSITIVE_INFINITY,
  };
  const [bound, estimate] = Object.entries(bounds).sort((a, b) => a[1] - b[1])[0];
  return { ...bounds, estimate, bound };
}

// ---------------------------------------------------------------------------------------
// Reporting

const DEPLOYMENTS = {
  pglite: 'PGlite, one instance',
  pg1: 'PostgreSQL, one instance',
  pg2: 'PostgreSQL, two instances',
};
const WHAT = {
  refresh:
    'POST /v1/licenses/refresh, Authorization: Bearer <license key>, {} (one license per connection at 256)',
  checkout:
    'POST /v1/checkout, photon/pro-monthly, test provider, a fresh Idempotency-Key per request',
};
const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : '—');
const percent = (value) => `${(100 * value).toFixed(0)}%`;

function figuresOf(results, notes) {
  const figures = [];
  for (const operation of ['refresh', 'checkout']) {
    for (const connections of CONNECTION_COUNTS) {
      const sides = results[operation][connections];
      const scaled = {
        group: 'scale',
        issue: 8,
        name: `${operation}, ${connections} connection${connections === 1 ? '' : 's'}: PostgreSQL, two instances against one`,
        ours: {
          what: `autocannon -c ${connections}: ${WHAT[operation]}, to instances A and B alternately`,
          value: sides.pg2.rate,
        },
        baseline: { what: `the same to instance A alone`, value: sides.pg1.rate },
        unit: 'req/s',
        ratio: perRoundRatio(sides, 'pg2', 'pg1'),
        command: COMMAND,
      };
      if (connections > 1) {
        scaled.goal = { op: '>=', value: SCALE_GOAL };
        scaled.why = notes.why;
        scaled.profile = notes.profile;
      }
      figures.push(scaled, {
        group: 'scale',
        issue: 8,
        name: `${operation}, ${connections} connection${connections === 1 ? '' : 's'}: PostgreSQL against PGlite, one instance each`,
        ours: {
          what: `autocannon -c ${connections}: ${WHAT[operation]}, instance A (PostgreSQL)`,
          value: sides.pg1.rate,
        },
        baseline: { what: 'the same to the PGlite instance', value: sides.pglite.rate },
        unit: 'req/s',
        ratio: perRoundRatio(sides, 'pg1', 'pglite'),
        command: COMMAND,
      });
    }
  }
  return figures;
}

function sideTable(results) {
  const lines = [
    '| request | conns | deployment | req/s | per round | p50 | p99 | non-2xx | errors | ramp | unanswered conns | store CPU / req | PostgreSQL CPU / req | machine busy |',
    '|---|---:|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const operation of Object.keys(results)) {
    for (const connections of CONNECTION_COUNTS) {
      for (const [name, side] of Object.entries(results[operation][connections])) {
        const codes = Object.entries(side.statusCodes)
          .filter(([code]) => !code.startsWith('2'))
          .map(([code, n]) => `${code}: ${n}`)
          .join(', ');
        const dbCost =
          name === 'pglite'
            ? '(in the store)'
            : ms((1000 * (side.cpu.db + side.cpu.dbBackground)) / side.answered);
        lines.push(
          `| ${operation} | ${connections} | ${DEPLOYMENTS[name]} | ${integer.format(side.rate)}/s | ${side.rates.map((r) => integer.format(r)).join(', ')} | ` +
            `${ms(side.p50)} | ${ms(side.p99)} | ${side.non2xx}${codes ? ` (${codes})` : ''} | ${side.errors} | ${Math.max(...side.ramps).toFixed(2)} s | ${side.starvedAtWindow === 0 ? '0' : `${side.starvedAtWindow} / ${side.starvedAtEnd}`} | ` +
            `${ms((1000 * side.cpu.store) / side.answered)} | ${dbCost} | ${percent(side.cpu.machineBusy / side.cpu.machineTotal)} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** Where the cores went during a side's runs, as cores (1.00 = one core all the time). */
function coresLine(side) {
  const cores = (seconds) => (seconds / side.cpu.wall).toFixed(2);
  const ours = side.cpu.store + side.cpu.db + side.cpu.dbBackground + side.cpu.load;
  const machine = (side.cpu.machineBusy / side.cpu.machineTotal) * cpus().length;
  return (
    `store instances ${cores(side.cpu.store)}, PostgreSQL backends ${cores(side.cpu.db)} and background ${cores(side.cpu.dbBackground)}, ` +
    `load generator ${cores(side.cpu.load)}, everything else ${((machine * side.cpu.wall - ours) / side.cpu.wall).toFixed(2)} ` +
    `(machine: ${machine.toFixed(2)} of ${cpus().length} cores busy)`
  );
}

function waitsLine(side) {
  const { samples, counts } = side.waits;
  if (samples === 0) return 'no samples';
  const entries = Object.entries(counts)
    .filter(([key]) => key !== 'idle')
    .sort((a, b) => b[1] - a[1]);
  return entries.map(([key, n]) => `${key} ${(n / samples).toFixed(2)}`).join(', ');
}

function serialLine(serial) {
  if (!serial) return 'no lock queue in 90% of the samples of any side';
  if (serial.queuedShare < 0.9) {
    return `a lock queue in ${percent(serial.queuedShare)} of the samples only: no serial section`;
  }
  const holders = Object.entries(serial.holders)
    .sort((a, b) => b[1] - a[1])
    .map(([key, share]) => `${key} ${percent(share)}`)
    .join(', ');
  return (
    `a lock queue in ${percent(serial.queuedShare)} of the samples; the head of the queue was ${holders}. ` +
    `Held ${serial.holdMs.toFixed(2)} ms per token on average (1 / rate), ${percent(serial.storeShare)} of it waiting for a store instance: ` +
    `the database's part, ${serial.databaseMs.toFixed(2)} ms, caps all instances together at ≈ ${integer.format(serial.cap)}/s`
  );
}

function profileLines(profiled, side) {
  const row = ([name, share]) =>
    `| ${(100 * share).toFixed(1)}% | \`${name.replaceAll('|', '\\|')}\` |`;
  return [
    `Instance B ran under \`node --cpu-prof\` throughout (so the two-instance side carries the profiler's cost: its ratios are, if anything, low); the summary is of its samples during the ${side.spans.length} two-instance refresh runs at 32 connections (${integer.format(side.rate)} refreshes/s over both instances): ${profiled.samples} samples${profiled.spanned ? '' : ' (the whole profile: the spans matched no samples)'}. Cores during those runs: ${coresLine(side)}.`,
    '',
    '| self | function (built dist/ file) |',
    '|---:|---|',
    ...profiled.self.map(row),
    '',
    '| inclusive | function |',
    '|---:|---|',
    ...profiled.inclusive.slice(0, 12).map(row),
  ];
}

/** One line for the missed two-instance figures: the cores, and any lock queue. */
function whyLine(results) {
  const side = results.refresh[32].pg2;
  const serial = serialSection(side);
  const queue =
    serial && serial.queuedShare >= 0.9
      ? `; and a lock that every token-issuing transaction queues on, one at a time over all instances (${serialLine(serial)})`
      : `; PostgreSQL's backends of the store's database, per sample: ${waitsLine(side)}`;
  return (
    `the ${cpus().length} cores are shared by PostgreSQL, both instances and the load generator (two-instance refresh at 32 connections: ${coresLine(side)})${queue}. ` +
    'A second instance on the same cores adds no CPU; see the model under "Store under load (issue 8)".'
  );
}

function profileLine(profiled) {
  const top = profiled.self
    .slice(0, 6)
    .map(([name, share]) => `${name.split('  ')[0]} ${(100 * share).toFixed(0)}%`)
    .join(', ');
  return `instance B under node --cpu-prof, its two-instance refresh runs at 32 connections (bench/scale.mjs): top self time ${top}.`;
}

function modelLines(results) {
  const lines = [];
  const costs = {};
  for (const operation of Object.keys(results)) {
    costs[operation] = { ...costsOf(results, operation), serial: serialOf(results, operation) };
  }
  lines.push(
    '| request | store CPU / request | PostgreSQL CPU / request (backends + background) | one instance (1 core) can answer | one database core can answer | serial section (database part) caps at |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const [operation, cost] of Object.entries(costs)) {
    lines.push(
      `| ${operation} | ${ms(cost.server * 1000)} | ${ms(cost.db * 1000)} (${ms(cost.dbBackends * 1000)} + ${ms((cost.db - cost.dbBackends) * 1000)}) | ` +
        `${integer.format(1 / cost.server)}/s | ${integer.format(1 / cost.db)}/s | ${cost.serial ? `${integer.format(cost.serial.cap)}/s` : '—'} |`,
    );
  }
  lines.push(
    '',
    '| request | database host | N = 1 | N = 2 | N = 4 | N = 8 | N = 16 |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  const mark = { instances: '', database: ' (db)', lock: ' (lock)' };
  for (const [operation, cost] of Object.entries(costs)) {
    for (const dbCores of [2, 4, 8]) {
      const cells = [1, 2, 4, 8, 16].map((instances) => {
        const model = modelThroughput({ instances, dbCores, cost, serialCap: cost.serial?.cap });
        return `${integer.format(model.estimate)}/s${mark[model.bound]}`;
      });
      lines.push(`| ${operation} | ${dbCores} cores | ${cells.join(' | ')} |`);
    }
  }
  for (const [operation, cost] of Object.entries(costs)) {
    lines.push('', `- ${operation}, serial section (lock queues): ${serialLine(cost.serial)}.`);
  }
  return { lines, costs };
}

function detailsOf(results, profiled, notes) {
  const profiledSide = results.refresh[32].pg2;
  const model = modelLines(results);
  const lines = [
    '### Store under load (issue 8): every side',
    '',
    `Each deployment is \`licensekit serve\` (LOG_LEVEL=warn, otherwise the defaults) on 127.0.0.1; autocannon 9 in a child process, no pipelining. Per request and connection count: ${WARMUP_SECONDS} s of warm-up per deployment, then ${ROUNDS} rounds of ${ROUND_SECONDS} s per deployment in alternating order; a run's window opens once each of its new connections has had an answer (ramp: the longest such wait). Rates: median of per-round rates; p50/p99 over every 2xx answer in the windows. CPU per request: /proc utime + stime of the processes over each run (from before the connections open until the run stops), over every answer of the run. Machine busy: /proc/stat over the same runs.`,
    '',
    sideTable(results),
    '',
    `With one connection the two-instance side reaches instance A only (autocannon gives connection i the URL i mod 2). Unanswered conns: connections with no answer when the window opened after ${MAX_RAMP_SECONDS} s of ramp / at the end of the run (worst round); their requests are in no latency.`,
    '',
    '#### Where the cores went (PostgreSQL, two instances)',
    '',
  ];
  for (const operation of Object.keys(results)) {
    for (const connections of CONNECTION_COUNTS.filter((c) => c > 1)) {
      const side = results[operation][connections].pg2;
      lines.push(
        `- ${operation}, ${connections} connections: ${coresLine(side)}. Backends (in use per sample): ${waitsLine(side)}. Serial section: ${serialLine(serialSection(side))}.`,
      );
    }
  }
  lines.push(
    '',
    '#### Profile',
    '',
    ...profileLines(profiled, profiledSide),
    '',
    '#### Model: N instances on a separate database host',
    '',
  );
  lines.push(
    'Throughput ≈ min(N × cores per instance / store CPU per request, database cores / PostgreSQL CPU per request, serial cap), one core per instance (the store runs its JavaScript on one thread), CPU per request over the PostgreSQL sides at 32 and 256 connections of this run. The serial cap applies when PostgreSQL\'s backends queued on a lock in ≥ 90% of the samples of a side (one transaction at a time holding it, as the issuance log\'s head row was before commit a8a77b8): one over the database\'s part of the time it is held, as measured below; none otherwise. "(db)" / "(lock)" mark where the database host or a serial section is the bound. The network is left out (round trips add latency; inside a serial section they would add to it).',
    '',
    ...model.lines,
  );
  for (const note of notes) lines.push('', note);
  return { text: lines.join('\n'), costs: model.costs };
}

// ---------------------------------------------------------------------------------------
// The group

/** The `scale` group of bench/run.mjs. */
export async function benchScale() {
  const adminUrl = process.env.LICENSEKIT_TEST_DATABASE_URL;
  const store = await import('../packages/store/dist/bench.js');
  const { openPostgres } = await import('../packages/store/dist/index.js');
  if (!adminUrl) {
    const note =
      '### Store under load (issue 8)\n\nNot measured: LICENSEKIT_TEST_DATABASE_URL is not set (a PostgreSQL role that may CREATE DATABASE).';
    console.error(`bench: ${note}`);
    return { figures: [], notes: [note] };
  }
  const scratchRoot = mkdtempSync(join(tmpdir(), 'licensekit-scale-'));
  const started = [];
  const cleanups = [];
  const load = startScaleLoad();
  const loadAtStart = loadavg();
  try {
    const scratch = await store.createScratchDatabase(adminUrl, 'lk_scale');
    cleanups.push(() => scratch.drop());
    const database = new URL(scratch.url).pathname.slice(1);
    const postgres = await watchPostgres(openPostgres, adminUrl, database);
    cleanups.push(() => postgres.close());
    if (!postgres.local)
      console.error('bench: PostgreSQL is not on this machine: its CPU is not measured');

    const serve = async (options) => {
      const instance = await startServe(options);
      started.push(instance);
      return instance;
    };
    // PGlite and instance A start together; B after A has migrated the database and made
    // the keys in the shared data directory.
    const shared = join(scratchRoot, 'shared');
    const [pglite, a] = await Promise.all([
      serve({ dataDir: join(scratchRoot, 'pglite') }),
      serve({ dataDir: shared, databaseUrl: scratch.url }),
    ]);
    const profileDir = join(scratchRoot, 'profile');
    const b = await serve({
      dataDir: shared,
      databaseUrl: scratch.url,
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir],
    });
    const deployments = [
      { name: 'pglite', db: 'pglite', urls: () => [pglite.url], pids: () => [pglite.pid] },
      { name: 'pg1', db: 'postgres', urls: () => [a.url], pids: () => [a.pid] },
      { name: 'pg2', db: 'postgres', urls: () => [a.url, b.url], pids: () => [a.pid, b.pid] },
    ];
    const [pgliteKeys, postgresKeys] = await Promise.all([
      buyLicenses(pglite.url, LICENSES, 'scale-pglite'),
      buyLicenses(a.url, LICENSES, 'scale-postgres'),
    ]);
    const context = { load, postgres, keys: { pglite: pgliteKeys, postgres: postgresKeys } };

    const results = { refresh: {}, checkout: {} };
    for (const operation of Object.keys(results)) {
      for (const connections of CONNECTION_COUNTS) {
        const at = process.hrtime.bigint();
        results[operation][connections] = await interleavedRounds(
          context,
          deployments,
          operation,
          connections,
        );
        const sides = results[operation][connections];
        console.error(
          `bench: scale ${operation} × ${connections}: ${Object.entries(sides)
            .map(([name, side]) => `${name} ${integer.format(side.rate)}/s p99 ${ms(side.p99)}`)
            .join(', ')} (${(Number(process.hrtime.bigint() - at) / 1e9).toFixed(0)} s)`,
        );
      }
    }

    // B wrote its profile on stopping; only the two-instance refresh runs at 32 connections.
    await b.stop();
    const profiled = await summariseProfile(profileDir, results.refresh[32].pg2.spans);

    const notes = [];
    const why = whyLine(results);
    const figures = figuresOf(results, { why, profile: profileLine(profiled) });
    const details = detailsOf(results, profiled, notes);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, 'scale.json'),
      `${JSON.stringify(
        {
          command: COMMAND,
          date: new Date().toISOString(),
          node: process.version,
          cpus: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
          loadAverage: { start: loadAtStart, end: loadavg() },
          rounds: ROUNDS,
          roundSeconds: ROUND_SECONDS,
          results,
          costs: details.costs,
          profile: {
            samples: profiled.samples,
            self: profiled.self,
            inclusive: profiled.inclusive,
          },
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(join(RESULTS, 'scale.md'), `${details.text}\n`);
    formatResults([join(RESULTS, 'scale.json'), join(RESULTS, 'scale.md')]);
    console.error(`\n${details.text}\n`);
    return { figures, details: [details.text] };
  } finally {
    load.close();
    for (const instance of started) await instance.stop();
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error) => console.error(`bench: cleanup: ${error.message}`));
    rmSync(scratchRoot, { recursive: true, force: true });
  }
}

// Last, so every declaration above is initialised.
if (process.argv[1] === HERE && process.argv.includes('--render')) await render();
