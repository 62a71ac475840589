import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors.js';
import { type PeriodUnit, periodAt } from './periods.js';
import { type QuotaSpec, quotaRemaining, quotaWindow, tryConsume } from './quota.js';

/** 1000 runs each; a time budget so a failing property reports instead of shrinking for ages. */
const RUNS = { numRuns: 1000, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: true };
const DAY = 86_400;
const Y2100 = 4_102_444_800; // leaves room for the ledger's steps before 2200

const instant = fc.integer({ min: 0, max: Y2100 });
const per = fc.option(fc.constantFrom<PeriodUnit>('day', 'week', 'month', 'year'), {
  nil: undefined,
});
const limitedSpec = fc.record({ limit: fc.integer({ min: 0, max: 50 }), per });
/** Uses spread over time: steps of up to 40 days cross day, week and month boundaries. */
const uses = fc.array(
  fc.record({
    step: fc.integer({ min: 0, max: 40 * DAY }),
    amount: fc.integer({ min: 1, max: 20 }),
  }),
  { minLength: 1, maxLength: 40 },
);

describe('quota ledger properties', () => {
  test('used never exceeds the limit across uses and period changes; remaining = limit − used', () => {
    fc.assert(
      fc.property(limitedSpec, instant, uses, (spec, anchor, operations) => {
        const termStart = anchor;
        const termEnd = anchor + 10 * 366 * DAY;
        // The model ledger: one counter per window, keyed by the period index.
        let now = anchor;
        let windowKey: number | undefined;
        let used = 0;
        for (const { step, amount } of operations) {
          now += step;
          const window = quotaWindow(spec, anchor, termStart, termEnd, now);
          const key = spec.per === undefined ? 0 : periodAt(anchor, spec.per, now).index;
          expect(window.start <= now && (window.end === undefined || now < window.end)).toBe(
            spec.per !== undefined || now < termEnd,
          );
          if (key !== windowKey) {
            // A new period starts at zero, with the whole limit available.
            windowKey = key;
            used = 0;
            expect(quotaRemaining(spec, used)).toBe(spec.limit);
          }
          const fits = used + amount <= spec.limit;
          const result = tryConsume(spec, used, amount);
          expect(result.granted).toBe(fits);
          expect(result.used).toBe(fits ? used + amount : used);
          used = result.used;
          expect(used).toBeLessThanOrEqual(spec.limit);
          expect(result.remaining).toBe(spec.limit - used);
          expect(quotaRemaining(spec, used)).toBe(result.remaining);
        }
      }),
      RUNS,
    );
  });

  test('a whole-term quota counts in the term, a per quota in the period at now', () => {
    fc.assert(
      fc.property(
        limitedSpec,
        instant,
        fc.integer({ min: 1, max: 10 * 366 * DAY }),
        fc.integer({ min: 0, max: 10 * 366 * DAY }),
        fc.boolean(),
        (spec, termStart, term, offset, perpetual) => {
          const termEnd = perpetual ? undefined : termStart + term;
          const now = termStart + offset;
          const window = quotaWindow(spec, termStart, termStart, termEnd, now);
          if (spec.per === undefined) {
            expect(window).toEqual({ start: termStart, end: termEnd });
          } else {
            const { start, end } = periodAt(termStart, spec.per, now);
            expect(window).toEqual({ start, end });
          }
        },
      ),
      RUNS,
    );
  });

  test('an unlimited quota always grants and never runs out', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.integer({ min: 1, max: 10 ** 6 }),
        (used, amount) => {
          const unlimited: QuotaSpec = { unlimited: true };
          expect(tryConsume(unlimited, used, amount)).toEqual({
            granted: true,
            used: used + amount,
            remaining: Number.POSITIVE_INFINITY,
          });
          expect(quotaRemaining(unlimited, used)).toBe(Number.POSITIVE_INFINITY);
        },
      ),
      RUNS,
    );
  });

  test('a refused use changes nothing, and remaining is never negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 1000 }),
        (limit, used, amount) => {
          const result = tryConsume({ limit }, used, amount);
          expect(result.granted).toBe(used + amount <= limit);
          if (!result.granted) expect(result.used).toBe(used);
          expect(result.remaining).toBe(Math.max(0, limit - result.used));
          expect(quotaRemaining({ limit }, used)).toBe(Math.max(0, limit - used));
        },
      ),
      RUNS,
    );
  });
});

describe('quota examples', () => {
  test('all or nothing at the limit', () => {
    expect(tryConsume({ limit: 10 }, 8, 3)).toEqual({ granted: false, used: 8, remaining: 2 });
    expect(tryConsume({ limit: 10 }, 8, 2)).toEqual({ granted: true, used: 10, remaining: 0 });
    expect(tryConsume({ limit: 0, per: 'day' }, 0, 1)).toEqual({
      granted: false,
      used: 0,
      remaining: 0,
    });
  });

  test('a limit lowered below usage leaves nothing, not a negative remainder', () => {
    expect(quotaRemaining({ limit: 5 }, 7)).toBe(0);
    expect(tryConsume({ limit: 5 }, 7, 1)).toEqual({ granted: false, used: 7, remaining: 0 });
  });

  test('a monthly quota resets on the clamped anchor day', () => {
    const anchor = Date.UTC(2024, 0, 31) / 1000;
    const now = Date.UTC(2024, 1, 15) / 1000;
    expect(quotaWindow({ limit: 100, per: 'month' }, anchor, anchor, undefined, now)).toEqual({
      start: anchor,
      end: Date.UTC(2024, 1, 29) / 1000,
    });
    expect(quotaWindow({ limit: 100 }, anchor, anchor, undefined, now)).toEqual({
      start: anchor,
      end: undefined,
    });
  });
});

describe('quota misuse', () => {
  const missing = {} as QuotaSpec;
  test.each<[string, () => unknown]>([
    ['a missing limit (never read as unlimited)', () => quotaRemaining(missing, 0)],
    ['a missing limit in tryConsume', () => tryConsume(missing, 0, 1)],
    ['unlimited: false', () => quotaRemaining({ unlimited: false } as unknown as QuotaSpec, 0)],
    [
      'limit and unlimited together',
      () => quotaRemaining({ limit: 1, unlimited: true } as QuotaSpec, 0),
    ],
    ['a negative limit', () => quotaRemaining({ limit: -1 }, 0)],
    ['a fractional limit', () => quotaRemaining({ limit: 1.5 }, 0)],
    ['an unknown per', () => quotaRemaining({ limit: 1, per: 'hour' as PeriodUnit }, 0)],
    ['a zero amount', () => tryConsume({ limit: 10 }, 0, 0)],
    ['a negative amount', () => tryConsume({ limit: 10 }, 5, -1)],
    ['a fractional amount', () => tryConsume({ unlimited: true }, 0, 0.5)],
    ['negative used', () => tryConsume({ limit: 10 }, -1, 1)],
    ['an empty term', () => quotaWindow({ limit: 1 }, 0, 10, 10, 5)],
    ['a fractional now', () => quotaWindow({ limit: 1, per: 'day' }, 0, 0, undefined, 0.5)],
  ])('%s is a ConfigError', (_name, misuse) => {
    expect(misuse).toThrow(ConfigError);
  });
});
