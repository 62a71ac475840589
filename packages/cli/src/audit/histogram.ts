/**
 * Issuance over time for the report's chart, in bounded memory: counts per bucket, where
 * the bucket starts at one second and widens (minute, hour, day, week) whenever the
 * number of buckets would pass a bound. A test store that issued everything in a minute
 * and a store with years of history both end with a few hundred buckets at most.
 */
const WIDTHS = [1, 60, 3600, 86_400, 604_800, 2_592_000];
const MAX_BUCKETS = 2000;

export interface Bucket {
  /** Start, seconds. */
  readonly start: number;
  readonly tokens: number;
  readonly other: number;
}

export class Histogram {
  #level = 0;
  #buckets = new Map<number, { tokens: number; other: number }>();

  get width(): number {
    return WIDTHS[this.#level]!;
  }

  add(at: number, kind: 'token' | 'other'): void {
    const key = Math.floor(at / this.width);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: 0, other: 0 };
      this.#buckets.set(key, bucket);
      if (this.#buckets.size > MAX_BUCKETS && this.#level < WIDTHS.length - 1) this.#widen();
      bucket = this.#buckets.get(Math.floor(at / this.width))!;
    }
    if (kind === 'token') bucket.tokens += 1;
    else bucket.other += 1;
  }

  #widen(): void {
    const before = this.width;
    this.#level += 1;
    const merged = new Map<number, { tokens: number; other: number }>();
    for (const [key, counts] of this.#buckets) {
      const wide = Math.floor((key * before) / this.width);
      const bucket = merged.get(wide) ?? { tokens: 0, other: 0 };
      bucket.tokens += counts.tokens;
      bucket.other += counts.other;
      merged.set(wide, bucket);
    }
    this.#buckets = merged;
  }

  /**
   * At most `bars` buckets covering first to last, empty ones included, each a whole
   * number of the recorded width.
   */
  bars(bars: number): { width: number; buckets: Bucket[] } {
    const keys = [...this.#buckets.keys()];
    if (keys.length === 0) return { width: this.width, buckets: [] };
    const first = Math.min(...keys);
    const last = Math.max(...keys);
    const per = Math.max(1, Math.ceil((last - first + 1) / bars));
    const buckets: Bucket[] = [];
    for (let key = first; key <= last; key += per) {
      let tokens = 0;
      let other = 0;
      for (let inner = key; inner < key + per && inner <= last; inner++) {
        const counts = this.#buckets.get(inner);
        tokens += counts?.tokens ?? 0;
        other += counts?.other ?? 0;
      }
      buckets.push({ start: key * this.width, tokens, other });
    }
    return { width: per * this.width, buckets };
  }
}
