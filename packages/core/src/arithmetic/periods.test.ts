import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors.js';
import { type PeriodUnit, periodAt, periodStart } from './periods.js';

/** 1000 runs each; a time budget so a failing property reports instead of shrinking for ages. */
const RUNS = { numRuns: 1000, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: true };
const DAY = 86_400;
const Y2200 = 7_258_118_400; // 2200-01-01T00:00:00Z

const instant = fc.integer({ min: 0, max: Y2200 });
const unit = fc.constantFrom<PeriodUnit>('day', 'week', 'month', 'year');
/** Indexes reaching about 30 years either side of the anchor for every unit. */
const indexFor = (u: PeriodUnit): fc.Arbitrary<number> => {
  const reach = { day: 11_000, week: 1_600, month: 360, year: 30 }[u];
  return fc.integer({ min: -reach, max: reach });
};

const utc = (iso: string): number => Date.parse(iso) / 1000;
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

describe('periodAt properties', () => {
  test('exactly one period contains t', () => {
    fc.assert(
      fc.property(instant, unit, instant, (anchor, u, t) => {
        const period = periodAt(anchor, u, t);
        expect(period.start).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(period.end);
        // The period is the one the series defines, and its own start maps back to it.
        expect(period.start).toBe(periodStart(anchor, u, period.index));
        expect(period.end).toBe(periodStart(anchor, u, period.index + 1));
        expect(periodAt(anchor, u, period.start)).toEqual(period);
        expect(periodAt(anchor, u, period.end - 1)).toEqual(period);
        // Instants just outside belong to the neighbours, not to this period.
        expect(periodAt(anchor, u, period.start - 1).index).toBe(period.index - 1);
        expect(periodAt(anchor, u, period.end).index).toBe(period.index + 1);
      }),
      RUNS,
    );
  });

  test('index 0 starts at the anchor, and t ≥ anchor never falls in a negative period', () => {
    fc.assert(
      fc.property(instant, unit, instant, (anchor, u, t) => {
        expect(periodStart(anchor, u, 0)).toBe(anchor);
        expect(periodAt(anchor, u, t).index >= 0).toBe(t >= anchor);
      }),
      RUNS,
    );
  });

  test('periods are contiguous and ordered', () => {
    fc.assert(
      fc.property(
        instant,
        unit.chain((u) => fc.tuple(fc.constant(u), indexFor(u))),
        (anchor, [u, index]) => {
          const start = periodStart(anchor, u, index);
          const next = periodStart(anchor, u, index + 1);
          expect(next).toBeGreaterThan(start);
          expect(periodAt(anchor, u, start)).toEqual({ index, start, end: next });
          expect(periodAt(anchor, u, next).start).toBe(next);
        },
      ),
      RUNS,
    );
  });

  test('day and week periods have fixed lengths; months 28–31 days, years 365 or 366', () => {
    const lengths: Record<PeriodUnit, number[]> = {
      day: [DAY],
      week: [7 * DAY],
      month: [28, 29, 30, 31].map((d) => d * DAY),
      year: [365 * DAY, 366 * DAY],
    };
    fc.assert(
      fc.property(instant, unit, instant, (anchor, u, t) => {
        const { start, end } = periodAt(anchor, u, t);
        expect(lengths[u]).toContain(end - start);
      }),
      RUNS,
    );
  });

  test('month and year starts keep the anchor time of day and clamp its day of month', () => {
    fc.assert(
      fc.property(
        instant,
        fc
          .constantFrom<PeriodUnit>('month', 'year')
          .chain((u) => fc.tuple(fc.constant(u), indexFor(u))),
        (anchor, [u, index]) => {
          // Oracle independent of the implementation: read the calendar fields back with Date.
          const from = new Date(anchor * 1000);
          const months = from.getUTCMonth() + index * (u === 'year' ? 12 : 1);
          const year = from.getUTCFullYear() + Math.floor(months / 12);
          const month = ((months % 12) + 12) % 12;
          const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
          const at = new Date(periodStart(anchor, u, index) * 1000);
          expect(at.getUTCFullYear()).toBe(year);
          expect(at.getUTCMonth()).toBe(month);
          expect(at.getUTCDate()).toBe(Math.min(from.getUTCDate(), lastDay));
          expect(at.getUTCHours()).toBe(from.getUTCHours());
          expect(at.getUTCMinutes()).toBe(from.getUTCMinutes());
          expect(at.getUTCSeconds()).toBe(from.getUTCSeconds());
        },
      ),
      RUNS,
    );
  });
});

describe('calendar examples', () => {
  const starts = (anchor: string, u: PeriodUnit, indexes: number[]): string[] =>
    indexes.map((i) => iso(periodStart(utc(anchor), u, i)));

  test('a Jan 31 monthly anchor clamps to the last day without sticking', () => {
    expect(starts('2023-01-31T10:00:00Z', 'month', [-1, 0, 1, 2, 3, 13])).toEqual([
      '2022-12-31T10:00:00.000Z',
      '2023-01-31T10:00:00.000Z',
      '2023-02-28T10:00:00.000Z',
      '2023-03-31T10:00:00.000Z',
      '2023-04-30T10:00:00.000Z',
      '2024-02-29T10:00:00.000Z',
    ]);
  });

  test('a Feb 29 yearly anchor clamps in common years and returns in leap years', () => {
    expect(starts('2024-02-29T00:00:00Z', 'year', [-1, 1, 2, 4, 76])).toEqual([
      '2023-02-28T00:00:00.000Z',
      '2025-02-28T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
      '2100-02-28T00:00:00.000Z', // 2100 is not a leap year
    ]);
  });

  test('a Dec 31 monthly anchor crosses the year', () => {
    const anchor = utc('2024-12-31T12:00:00Z');
    expect(periodAt(anchor, 'month', utc('2025-01-15T00:00:00Z'))).toEqual({
      index: 0,
      start: anchor,
      end: utc('2025-01-31T12:00:00Z'),
    });
    expect(periodAt(anchor, 'month', utc('2025-03-01T00:00:00Z'))).toEqual({
      index: 2,
      start: utc('2025-02-28T12:00:00Z'),
      end: utc('2025-03-31T12:00:00Z'),
    });
  });

  test('an anchor at 23:59:59 keeps its time of day, so periods end a second before midnight', () => {
    const anchor = utc('2024-01-31T23:59:59Z');
    // 2024-02-29T23:59:58Z is still in January's period; one second later a new one starts.
    expect(periodAt(anchor, 'month', utc('2024-02-29T23:59:58Z')).index).toBe(0);
    expect(periodAt(anchor, 'month', utc('2024-02-29T23:59:59Z'))).toEqual({
      index: 1,
      start: utc('2024-02-29T23:59:59Z'),
      end: utc('2024-03-31T23:59:59Z'),
    });
    expect(periodAt(anchor, 'day', utc('2024-02-01T00:00:00Z'))).toEqual({
      index: 0,
      start: anchor,
      end: utc('2024-02-01T23:59:59Z'),
    });
  });

  test('instants before the anchor fall in negative periods', () => {
    const anchor = utc('2024-03-31T00:00:00Z');
    expect(periodAt(anchor, 'month', utc('2024-03-30T00:00:00Z'))).toEqual({
      index: -1,
      start: utc('2024-02-29T00:00:00Z'),
      end: anchor,
    });
    expect(periodAt(anchor, 'week', anchor - 1).index).toBe(-1);
    expect(periodAt(anchor, 'week', anchor - 7 * DAY).index).toBe(-1);
    expect(periodAt(anchor, 'week', anchor - 7 * DAY - 1).index).toBe(-2);
  });

  test('years 0–99 are not read as 1900–1999 (a Date.UTC quirk)', () => {
    const anchor = utc('0050-03-15T06:00:00Z');
    expect(iso(periodStart(anchor, 'year', 1))).toBe('0051-03-15T06:00:00.000Z');
    expect(iso(periodStart(anchor, 'month', -1))).toBe('0050-02-15T06:00:00.000Z');
    expect(periodAt(anchor, 'year', utc('0100-01-01T00:00:00Z')).index).toBe(49);
    // Year 0 is a leap year, 1900 is not: a month-end anchor must reach Feb 29 of year 0.
    expect(starts('0000-01-31T00:00:00Z', 'month', [1])).toEqual(['0000-02-29T00:00:00.000Z']);
  });
});

describe('period misuse', () => {
  test.each<[string, () => unknown]>([
    ['fractional anchor', () => periodStart(0.5, 'day', 0)],
    ['fractional index', () => periodStart(0, 'day', 0.5)],
    ['unknown unit', () => periodAt(0, 'fortnight' as PeriodUnit, 0)],
    ['NaN t', () => periodAt(0, 'month', Number.NaN)],
    ['t beyond the calendar range', () => periodAt(0, 'day', 9e12)],
    ['a start beyond the calendar range', () => periodStart(0, 'year', 300_000)],
    ['a huge index', () => periodStart(0, 'month', Number.MAX_SAFE_INTEGER)],
  ])('%s is a ConfigError', (_name, misuse) => {
    expect(misuse).toThrow(ConfigError);
  });
});
