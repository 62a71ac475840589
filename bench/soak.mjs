#!/usr/bin/env node
/**
 * `pnpm bench:soak [--minutes N] [--database pglite|postgres]` (issue 8): one `licensekit
 * serve` process under a fixed load for N minutes (default 10), on 127.0.0.1 only, sampled
 * every 5 s for its resident memory (/proc/<pid>/status VmRSS), its V8 heap and event-loop
 * delay (its own /metrics) and the p99 of the requests of the last interval. Writes
 * bench/results/soak-<database>.json and .md, and three PNG charts beside them: -rss,
 * -eventloop, -p99.
 *
 * The load is open-loop: a paced client sends refreshes (over 64 licenses bought first)
 * and checkouts (each with an Idempotency-Key and e-mail of its own) on a fixed schedule,
 * --refresh-rate and --checkout-rate a second (by default 200 + 20 on PostgreSQL, 100 + 10
 * on PGlite). A request's latency runs from the moment it was due, not from when a free
 * socket let it go, so a stalled store shows as latency rather than as a lower rate. The client runs in a child process, as the scale group's does.
 *
 * Database: PGlite in a temporary directory by default; with `--database postgres` a
 * scratch database made through LICENSEKIT_TEST_DATABASE_URL (dropped after); with
 * DATABASE_URL set, that database as it is.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lineChartSvg, writePngs } from './lib/chart.mjs';
import { quantile } from './lib/interleave.mjs';
import {
  buyLicenses,
  formatResults,
  processCpuSeconds,
  residentBytes,
  startServe,
} from './scale.mjs';

const HERE = fileURLToPath(import.meta.url);
const ROOT = join(HERE, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const SAMPLE_SECONDS = 5;
const LICENSES = 64;
/**
 * The verdict's threshold: RSS rising by less than this over the second half of the run
 * "levels off". 0.5 MB/min is 30 MB an hour, well under what sampling noise in a 5-minute
 * window can tell apart from flat on a store of 100–300 MB.
 */
const LEVEL_MB_PER_MINUTE = 0.5;

const MB = 2 ** 20;
/**
 * About half of what one instance answers on this 2-core machine (bench/scale.mjs): a soak
 * looks for growth at a load the store sustains, not at its limit, where an open-loop
 * client's queue would grow instead. PGlite runs the database on the store's one thread
 * (≈ 270 refreshes/s at most here), hence half the PostgreSQL rate.
 */
const DEFAULT_RATES = {
  pglite: { refresh: 100, checkout: 10 },
  postgres: { refresh: 200, checkout: 20 },
};

// ---------------------------------------------------------------------------------------
// The paced client (child process)

/** The nearest-rank style quantile of a list, or null when it is empty. */
function q(values, fraction) {
  return values.length === 0 ? null : quantile(values, fraction);
}

/**
 * Sends `rates[op]` requests a second of each kind to `url` until told to stop; answers
 * every 'flush' with the interval's counts and latencies (ms, from each request's due time).
 */
function runPacedClient({ url, rates, keys }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const started = performance.now();
  const sent = { refresh: 0, checkout: 0 };
  let interval = freshInterval();
  let inFlight = 0;
  let stopping = false;

  function freshInterval() {
    return {
      refresh: { latencies: [], non2xx: 0, errors: 0 },
      checkout: { latencies: [], non2xx: 0, errors: 0 },
    };
  }

  function request(op, index) {
    const due = started + (index * 1000) / rates[op];
    const body =
      op === 'refresh'
        ? '{}'
        : JSON.stringify({
            productId: 'photon',
            planId: 'pro-monthly',
            email: `soak-${process.pid}-${index}@example.com`,
          });
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (op === 'refresh') headers.authorization = `Bearer ${keys[index % keys.length]}`;
    else headers['idempotency-key'] = `soak-${process.pid}-${index}`;
    inFlight++;
    const done = (status) => {
      inFlight--;
      const bucket = interval[op];
      if (status === undefined) bucket.errors++;
      else if (status < 200 || status >= 300) bucket.non2xx++;
      else bucket.latencies.push(performance.now() - due);
    };
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: op === 'refresh' ? '/v1/licenses/refresh' : '/v1/checkout',
        headers,
        agent,
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode));
        res.on('error', () => done(undefined));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(undefined));
    req.end(body);
  }

  // Every 2 ms, whatever is due by now: smooth at these rates, no second-long bursts.
  const pacer = setInterval(() => {
    if (stopping) return;
    const elapsed = performance.now() - started;
    for (const op of Object.keys(sent)) {
      const due = Math.floor((elapsed * rates[op]) / 1000);
      while (sent[op] < due) request(op, sent[op]++);
    }
  }, 2);

  process.on('message', async (message) => {
    if (message.type === 'flush') {
      const finished = interval;
      interval = freshInterval();
      const summary = {};
      for (const [op, { latencies, non2xx, errors }] of Object.entries(finished)) {
        summary[op] = {
          ok: latencies.length,
          non2xx,
          errors,
          p50: q(latencies, 0.5),
          p99: q(latencies, 0.99),
          max: latencies.length === 0 ? null : Math.max(...latencies),
        };
      }
      process.send({ type: 'interval', summary, inFlight, sent: { ...sent } });
    } else if (message.type === 'stop') {
      stopping = true;
      clearInterval(pacer);
      // The requests already sent get up to 30 s to finish.
      const until = performance.now() + 30_000;
      while (inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
      agent.destroy();
      process.send({ type: 'stopped', inFlight });
    }
  });
}

if (process.argv.includes('--paced-child')) {
  process.once('message', (options) => runPacedClient(options));
}

// ---------------------------------------------------------------------------------------
// The run

/** The value of an unlabelled sample in Prometheus text, or null. */
function metric(text, name) {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** Least-squares slope of y over x, with its standard error. */
export function slope(points) {
  const n = points.length;
  if (n < 3) return { perUnit: Number.NaN, stderr: Number.NaN };
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  const perUnit = sxy / sxx;
  const residual = points.reduce((sum, [x, y]) => sum + (y - my - perUnit * (x - mx)) ** 2, 0);
  return { perUnit, stderr: Math.sqrt(residual / (n - 2) / sxx), intercept: my - perUnit * mx };
}

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      database: { type: 'string' },
      'refresh-rate': { type: 'string' },
      'checkout-rate': { type: 'string' },
    },
  });
  const minutes = Number(values.minutes);
  if (!(minutes > 0 && minutes <= 60))
    throw new Error('--minutes is a number of minutes, up to 60');
  const database = values.database ?? (process.env.DATABASE_URL ? 'postgres' : 'pglite');
  if (database !== 'pglite' && database !== 'postgres') {
    throw new Error('--database is pglite or postgres');
  }
  const rates = DEFAULT_RATES[database];
  return {
    minutes,
    database,
    rates: {
      refresh: Number(values['refresh-rate'] ?? rates.refresh),
      checkout: Number(values['checkout-rate'] ?? rates.checkout),
    },
  };
}

/** A database for the store: PGlite (undefined), DATABASE_URL as is, or a scratch one. */
async function databaseFor(kind) {
  if (kind === 'pglite') return { url: undefined, drop: async () => {} };
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, drop: async () => {} };
  const adminUrl = process.env.LICENSEKIT_TEST_DATABASE_URL;
  if (!adminUrl) {
    throw new Error(
      'PostgreSQL: set DATABASE_URL, or LICENSEKIT_TEST_DATABASE_URL for a scratch database',
    );
  }
  const { createScratchDatabase } = await import('../packages/store/dist/bench.js');
  return createScratchDatabase(adminUrl, 'lk_soak');
}

async function soak({ minutes, database, rates }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-soak-'));
  const db = await databaseFor(database);
  let store;
  let client;
  try {
    store = await startServe({ dataDir, databaseUrl: db.url });
    const keys = await buyLicenses(store.url, LICENSES, 'soak');
    client = fork(HERE, ['--paced-child'], { stdio: 'inherit' });
    const messages = [];
    const waiting = [];
    client.on('message', (message) => {
      const next = waiting.shift();
      if (next) next(message);
      else messages.push(message);
    });
    const reply = () =>
      messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((r) => waiting.push(r));
    client.send({ url: store.url, rates, keys });

    console.error(
      `soak: ${database}, ${minutes} min, ${rates.refresh} refresh/s + ${rates.checkout} checkout/s to ${store.url} (pid ${store.pid})`,
    );
    const samples = [];
    const started = performance.now();
    let cpuBefore = processCpuSeconds(store.pid);
    const loadAtStart = loadavg();
    for (let tick = 1; tick <= (minutes * 60) / SAMPLE_SECONDS; tick++) {
      const wait = started + tick * SAMPLE_SECONDS * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      client.send({ type: 'flush' });
      const [interval, metricsText] = await Promise.all([
        reply(),
        fetch(`${store.url}/metrics`).then((response) => response.text()),
      ]);
      const cpu = processCpuSeconds(store.pid);
      samples.push({
        minutes: (performance.now() - started) / 60_000,
        rssBytes: residentBytes(store.pid),
        heapUsedBytes: metric(metricsText, 'nodejs_heap_used_bytes'),
        eventLoopP99Ms: 1000 * metric(metricsText, 'nodejs_eventloop_delay_p99_seconds'),
        eventLoopMaxMs: 1000 * metric(metricsText, 'nodejs_eventloop_delay_max_seconds'),
        cpuCores: (cpu - cpuBefore) / SAMPLE_SECONDS,
        inFlight: interval.inFlight,
        ...interval.summary,
      });
      cpuBefore = cpu;
      if (tick % (60 / SAMPLE_SECONDS) === 0) {
        const last = samples.at(-1);
        console.error(
          `soak: ${last.minutes.toFixed(1)} min, RSS ${(last.rssBytes / MB).toFixed(0)} MB, ` +
            `loop p99 ${last.eventLoopP99Ms.toFixed(1)} ms, refresh p99 ${last.refresh.p99?.toFixed(1)} ms, ` +
            `checkout p99 ${last.checkout.p99?.toFixed(1)} ms, store CPU ${last.cpuCores.toFixed(2)} cores`,
        );
      }
    }
    client.send({ type: 'stop' });
    const stopped = await reply();
    return { samples, sent: stopped, loadAtStart, loadAtEnd: loadavg() };
  } finally {
    client?.disconnect();
    await store?.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Summary and charts

function summarise(samples, minutes) {
  const half = samples.filter((s) => s.minutes >= minutes / 2);
  const firstHalf = samples.filter((s) => s.minutes < minutes / 2);
  const rssSecond = slope(half.map((s) => [s.minutes, s.rssBytes / MB]));
  const rssFirst = slope(firstHalf.map((s) => [s.minutes, s.rssBytes / MB]));
  const heapSecond = slope(half.map((s) => [s.minutes, s.heapUsedBytes / MB]));
  const all = (op, key) => samples.map((s) => s[op][key]).filter((v) => v !== null);
  const totals = (op) =>
    samples.reduce(
      (sum, s) => ({
        ok: sum.ok + s[op].ok,
        non2xx: sum.non2xx + s[op].non2xx,
        errors: sum.errors + s[op].errors,
      }),
      { ok: 0, non2xx: 0, errors: 0 },
    );
  return {
    rss: {
      startMb: samples[0].rssBytes / MB,
      endMb: samples.at(-1).rssBytes / MB,
      maxMb: Math.max(...samples.map((s) => s.rssBytes)) / MB,
      firstHalfSlopeMbPerMin: rssFirst.perUnit,
      secondHalfSlopeMbPerMin: rssSecond.perUnit,
      secondHalfSlopeStderr: rssSecond.stderr,
      fit: rssSecond,
      levelsOff: rssSecond.perUnit < LEVEL_MB_PER_MINUTE,
      thresholdMbPerMin: LEVEL_MB_PER_MINUTE,
    },
    heapSecondHalfSlopeMbPerMin: heapSecond.perUnit,
    // Latency may drift as the tables grow even where memory does not: second-half trends.
    trends: {
      eventLoopP99MsPerMin: slope(half.map((s) => [s.minutes, s.eventLoopP99Ms])).perUnit,
      refreshP99MsPerMin: slope(
        half.filter((s) => s.refresh.p99 !== null).map((s) => [s.minutes, s.refresh.p99]),
      ).perUnit,
      checkoutP99MsPerMin: slope(
        half.filter((s) => s.checkout.p99 !== null).map((s) => [s.minutes, s.checkout.p99]),
      ).perUnit,
    },
    eventLoop: {
      p99MedianMs: quantile(
        samples.map((s) => s.eventLoopP99Ms),
        0.5,
      ),
      p99WorstMs: Math.max(...samples.map((s) => s.eventLoopP99Ms)),
      maxWorstMs: Math.max(...samples.map((s) => s.eventLoopMaxMs)),
    },
    latency: Object.fromEntries(
      ['refresh', 'checkout'].map((op) => [
        op,
        {
          ...totals(op),
          rate: totals(op).ok / (minutes * 60),
          p99MedianMs: quantile(all(op, 'p99'), 0.5),
          p99WorstMs: Math.max(...all(op, 'p99')),
        },
      ]),
    ),
    storeCpuCores: quantile(
      samples.map((s) => s.cpuCores),
      0.5,
    ),
  };
}

async function charts(database, samples, summary, minutes, rates) {
  const label = database === 'pglite' ? 'PGlite' : 'PostgreSQL';
  const points = (value) =>
    samples.map((s) => [s.minutes, value(s)]).filter(([, y]) => y !== null && Number.isFinite(y));
  const fit = summary.rss.fit;
  const rss = lineChartSvg({
    title: `Store RSS under ${rates.refresh} refresh/s + ${rates.checkout} checkout/s, ${label}`,
    xLabel: 'minutes',
    yLabel: 'MB',
    series: [
      { name: 'RSS (VmRSS)', points: points((s) => s.rssBytes / MB) },
      { name: 'V8 heap used', points: points((s) => s.heapUsedBytes / MB) },
    ],
    dashed: [
      {
        name: `second-half fit: ${summary.rss.secondHalfSlopeMbPerMin.toFixed(2)} MB/min`,
        points: [minutes / 2, minutes].map((x) => [x, fit.intercept + fit.perUnit * x]),
      },
    ],
  });
  const eventLoop = lineChartSvg({
    title: `Event-loop delay per 5 s window, ${label}`,
    xLabel: 'minutes',
    yLabel: 'ms',
    series: [
      { name: 'p99', points: points((s) => s.eventLoopP99Ms) },
      { name: 'max', points: points((s) => s.eventLoopMaxMs) },
    ],
  });
  const p99 = lineChartSvg({
    title: `Request p99 per 5 s interval (from the due time), ${label}`,
    xLabel: 'minutes',
    yLabel: 'ms',
    series: [
      { name: 'refresh p99', points: points((s) => s.refresh.p99) },
      { name: 'checkout p99', points: points((s) => s.checkout.p99) },
    ],
  });
  const files = ['rss', 'eventloop', 'p99'].map((name) =>
    join(RESULTS, `soak-${database}-${name}.png`),
  );
  await writePngs([
    { path: files[0], svg: rss },
    { path: files[1], svg: eventLoop },
    { path: files[2], svg: p99 },
  ]);
  return files;
}

function markdown(database, minutes, rates, summary, command) {
  const { rss, eventLoop, latency } = summary;
  const f = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
  return [
    `Soak on ${database === 'pglite' ? 'PGlite' : 'PostgreSQL'}: \`${command}\`, ${minutes} min at ${rates.refresh} refresh/s + ${rates.checkout} checkout/s (open loop), sampled every ${SAMPLE_SECONDS} s.`,
    '',
    '| | value |',
    '|---|---:|',
    `| RSS at the first sample / at the end / max | ${f(rss.startMb, 0)} / ${f(rss.endMb, 0)} / ${f(rss.maxMb, 0)} MB |`,
    `| RSS slope, first half | ${f(rss.firstHalfSlopeMbPerMin, 2)} MB/min |`,
    `| RSS slope, second half (± standard error) | ${f(rss.secondHalfSlopeMbPerMin, 2)} ± ${f(rss.secondHalfSlopeStderr, 2)} MB/min |`,
    `| V8 heap used, slope over the second half | ${f(summary.heapSecondHalfSlopeMbPerMin, 2)} MB/min |`,
    `| event-loop delay p99 per window: median / worst; worst max | ${f(eventLoop.p99MedianMs)} / ${f(eventLoop.p99WorstMs)} ms; ${f(eventLoop.maxWorstMs)} ms |`,
    ...['refresh', 'checkout'].map(
      (op) =>
        `| ${op}: answered, rate; p99 per interval: median / worst; non-2xx, errors | ${latency[op].ok} at ${f(latency[op].rate, 0)}/s; ${f(latency[op].p99MedianMs)} / ${f(latency[op].p99WorstMs)} ms; ${latency[op].non2xx}, ${latency[op].errors} |`,
    ),
    `| slope over the second half: event-loop p99, refresh p99, checkout p99 | ${f(summary.trends.eventLoopP99MsPerMin, 2)}, ${f(summary.trends.refreshP99MsPerMin, 2)}, ${f(summary.trends.checkoutP99MsPerMin, 2)} ms/min |`,
    `| store CPU (median of the intervals) | ${f(summary.storeCpuCores, 2)} cores |`,
    '',
    `Verdict: RSS ${rss.levelsOff ? '**levels off**' : '**does not level off**'}: ${f(rss.secondHalfSlopeMbPerMin, 2)} MB/min over the second half, against a threshold of ${rss.thresholdMbPerMin} MB/min (30 MB an hour).`,
  ].join('\n');
}

/**
 * `node bench/soak.mjs --render <database>`: the summary, .md and charts again from
 * bench/results/soak-<database>.json, without a run (for a change to how they are drawn).
 */
async function render(database) {
  const base = join(RESULTS, `soak-${database}`);
  const saved = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
  const summary = summarise(saved.samples, saved.minutes);
  await charts(database, saved.samples, summary, saved.minutes, saved.rates);
  const text = markdown(database, saved.minutes, saved.rates, summary, saved.command);
  saved.summary = { ...summary, rss: { ...summary.rss, fit: undefined } };
  writeFileSync(`${base}.json`, `${JSON.stringify(saved, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${text}\n`);
  formatResults([`${base}.json`, `${base}.md`]);
  console.log(text);
}

async function main() {
  const at = process.argv.indexOf('--render');
  if (at !== -1) return render(process.argv[at + 1] ?? 'pglite');
  const settings = options();
  const args = process.argv.slice(2).join(' ');
  // The variable that chose the database, value elided (it may hold a password).
  const variable =
    settings.database !== 'postgres'
      ? ''
      : process.env.DATABASE_URL
        ? 'DATABASE_URL=… '
        : 'LICENSEKIT_TEST_DATABASE_URL=… ';
  const command = `${variable}pnpm bench:soak${args ? ` ${args}` : ''}`;
  const run = await soak(settings);
  const summary = summarise(run.samples, settings.minutes);
  mkdirSync(RESULTS, { recursive: true });
  const files = await charts(
    settings.database,
    run.samples,
    summary,
    settings.minutes,
    settings.rates,
  );
  const text = markdown(settings.database, settings.minutes, settings.rates, summary, command);
  const base = join(RESULTS, `soak-${settings.database}`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify(
      {
        command,
        date: new Date().toISOString(),
        node: process.version,
        cpus: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
        loadAverage: { start: run.loadAtStart, end: run.loadAtEnd },
        ...settings,
        sampleSeconds: SAMPLE_SECONDS,
        summary: { ...summary, rss: { ...summary.rss, fit: undefined } },
        samples: run.samples,
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(`${base}.md`, `${text}\n`);
  formatResults([`${base}.json`, `${base}.md`]);
  console.log(`${text}\n\nwrote ${base}.json, ${base}.md, ${files.join(', ')}`);
}

if (!process.argv.includes('--paced-child')) await main();
