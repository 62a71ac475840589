/**
 * The timing harness. Every figure is a comparison run in this one process: each side is a
 * batch function `(n) => void | Promise<void>` doing n operations. After a warm-up (JIT,
 * caches, lazy imports) each side is calibrated to about `roundMs` per batch, then the
 * sides run in alternating order, round after round, so that load from other work on a
 * shared machine lands on every side alike. The figure is the median over rounds of the
 * per-round ratio, not the ratio of two medians taken at different moments.
 */

const now = () => process.hrtime.bigint();
const seconds = (from, to) => Number(to - from) / 1e9;

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The value below which `fraction` of the values lie (linear interpolation). */
export function quantile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * fraction;
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

async function timed(batch, n) {
  const started = now();
  await batch(n);
  return seconds(started, now());
}

/** Runs `batch` in growing batches for at least `ms`; returns its rate (ops/s). */
async function warmUp(batch, ms) {
  let n = 1;
  let ops = 0;
  let spent = 0;
  while (spent * 1000 < ms) {
    spent += await timed(batch, n);
    ops += n;
    n = Math.min(n * 2, 1 << 16);
  }
  return ops / spent;
}

/**
 * @param {Record<string, (n: number) => unknown>} sides  name → batch of n operations
 * @param {{ rounds?: number, roundMs?: number, warmupMs?: number }} [options]
 * @returns {Promise<{ rounds: number, rates: Record<string, number[]>, rate(name: string): number,
 *   ratio(ours: string, baseline: string): { median: number, low: number, high: number } }>}
 */
export async function interleave(sides, options = {}) {
  const { rounds = 15, roundMs = 120, warmupMs = 400 } = options;
  const names = Object.keys(sides);
  const batchSize = {};
  for (const name of names) {
    const rate = await warmUp(sides[name], warmupMs);
    batchSize[name] = Math.max(1, Math.round((rate * roundMs) / 1000));
  }
  const rates = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const n = batchSize[name];
      rates[name].push(n / (await timed(sides[name], n)));
    }
  }
  return {
    rounds,
    rates,
    rate: (name) => median(rates[name]),
    ratio(ours, baseline) {
      const perRound = rates[ours].map((rate, round) => rate / rates[baseline][round]);
      return {
        median: median(perRound),
        low: quantile(perRound, 0.25),
        high: quantile(perRound, 0.75),
      };
    },
  };
}
