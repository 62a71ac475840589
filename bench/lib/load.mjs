/**
 * The load generator of the store benchmark: autocannon in a child process of its own, so
 * that the server's event loop runs only the server (on a 2-core machine the two processes
 * then share the cores, as a client and a server on one host do).
 *
 * `startLoad()` forks this file; `load.run(options)` runs autocannon once against
 * `127.0.0.1` and answers with every 2xx latency, so that percentiles can be taken over
 * several rounds. Each connection gets its own list of requests (cycled), which is how a
 * connection is kept on its own licenses. A run's connections are new, so its window opens
 * only once each has been answered: the figures are of 32 established connections, and
 * how long a busy server took to answer them all is reported apart (`rampSeconds`).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How long a run may take to get an answer on every connection before it fails. */
const MAX_RAMP_SECONDS = 20;

/**
 * @typedef {object} LoadRequest
 * @property {'GET' | 'POST'} method
 * @property {string} path
 * @property {Record<string, string>} headers
 * @property {string} [body]
 *
 * @typedef {object} LoadOptions
 * @property {string} url                    http://127.0.0.1:port only
 * @property {number} connections
 * @property {number} seconds                the measured window (fixed duration)
 * @property {number} maxRequests            a cap on the count, whatever the duration
 * @property {LoadRequest[][]} perConnection connection i cycles through perConnection[i % n]
 *
 * @typedef {object} LoadResult
 * @property {number} seconds      the measured window
 * @property {number} rampSeconds  from the start until every connection had an answer
 * @property {number} ok           2xx answers inside the window
 * @property {number} non2xx       answers of any other status, window or not
 * @property {Record<string, number>} statusCodes  of every answer until the window ends
 * @property {number} errors       connection errors and timeouts
 * @property {number} timeouts
 * @property {number[]} latencies  ms, of every 2xx answer
 */

/** @returns {{ run(options: LoadOptions): Promise<LoadResult>, close(): void }} */
export function startLoad() {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: 'inherit' });
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
    run(options) {
      const url = new URL(options.url);
      if (url.hostname !== '127.0.0.1') throw new Error(`load only to 127.0.0.1, not ${url.host}`);
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
 * One autocannon run whose measured window opens when every connection has had its first
 * answer (connections are opened anew for each run; how long that takes is reported as
 * `rampSeconds`) and lasts `seconds`. Only answers that arrive inside the window count.
 */
async function runAutocannon({ url, connections, seconds, maxRequests, perConnection }) {
  const { default: autocannon } = await import('autocannon');
  const now = () => process.hrtime.bigint();
  const started = now();
  let connection = 0;
  const latencies = [];
  const statusCodes = {};
  const answered = new Set();
  let ok = 0;
  let non2xx = 0;
  let windowStart;
  let windowEnd;
  const instance = autocannon({
    url,
    connections,
    // A cap: the window ends the run, by stop(), long before this.
    duration: seconds + MAX_RAMP_SECONDS,
    maxOverallRequests: maxRequests,
    timeout: 10,
    sampleInt: 100,
    // Every request of a connection comes from its own list (set below).
    requests: perConnection[0],
    setupClient(client) {
      client.setRequests(perConnection[connection++ % perConnection.length]);
    },
  });
  instance.on('response', (client, statusCode, _bytes, responseTime) => {
    const at = now();
    if (windowEnd !== undefined && at > windowEnd) return;
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    const success = statusCode >= 200 && statusCode < 300;
    // Failures count wherever they happen; successes only inside the window.
    if (!success) non2xx++;
    if (windowStart === undefined) {
      answered.add(client);
      if (answered.size === connections) {
        windowStart = at;
        windowEnd = at + BigInt(Math.round(seconds * 1e9));
        setTimeout(() => instance.stop(), seconds * 1000 + 50);
      }
    } else if (success) {
      ok++;
      latencies.push(responseTime);
    }
  });
  const result = await instance;
  if (windowStart === undefined) {
    throw new Error(`only ${answered.size} of ${connections} connections answered`);
  }
  return {
    seconds: Number(windowEnd - windowStart) / 1e9,
    rampSeconds: Number(windowStart - started) / 1e9,
    ok,
    non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencies,
  };
}

if (process.argv.includes('--child')) {
  process.on('message', async ({ id, options }) => {
    try {
      process.send({ id, result: await runAutocannon(options) });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}
