import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { daysInMonth, MAX_CALENDAR_INSTANT, toUtcDateTime, utcDayStart } from './calendar.js';

/**
 * The calendar helpers (a reused Date, Date.UTC with years 0–99 shifted by 400 years, a
 * month-length rule) against fresh `Date` objects and setUTCFullYear, which take every
 * year as given: what these helpers used before and must keep agreeing with.
 */
const RUNS = { numRuns: 3000, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: true };
const MAX_DAY = MAX_CALENDAR_INSTANT / 86_400;

function dateFields(instant: number) {
  const date = new Date(instant * 1000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth(), day: date.getUTCDate() };
}

function dateDayStart(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month, day) / 1000;
}

/** Instants over the whole range, with the edges and the leap-rule years weighted in. */
const instant = fc.oneof(
  fc.integer({ min: -MAX_CALENDAR_INSTANT, max: MAX_CALENDAR_INSTANT }),
  fc.integer({ min: -2_000_000_000_00, max: 2_000_000_000_00 }),
  fc.constantFrom(
    0,
    -1,
    MAX_CALENDAR_INSTANT,
    -MAX_CALENDAR_INSTANT,
    951_782_400, // 2000-02-29
    4_107_542_400, // 2100-03-01
    -62_135_596_800, // 0001-01-01
    -62_167_219_200, // 0000-01-01
    -62_198_755_201, // the last second of year -1
  ),
);

describe('UTC calendar helpers', () => {
  test('toUtcDateTime gives the date Date gives, and the second of the day', () => {
    fc.assert(
      fc.property(instant, (t) => {
        const fields = toUtcDateTime(t);
        expect({ year: fields.year, month: fields.month, day: fields.day }).toEqual(dateFields(t));
        expect(fields.secondOfDay).toBe(t - Math.floor(t / 86_400) * 86_400);
        expect(fields.secondOfDay).toBeGreaterThanOrEqual(0);
        expect(fields.secondOfDay).toBeLessThan(86_400);
      }),
      RUNS,
    );
  });

  test('utcDayStart is the inverse of the date, with setUTCFullYear carrying', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -271_000, max: 275_000 }),
        fc.integer({ min: -30, max: 40 }),
        fc.integer({ min: -70, max: 70 }),
        (year, month, day) => {
          expect(utcDayStart(year, month, day)).toEqual(dateDayStart(year, month, day));
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.integer({ min: -MAX_DAY, max: MAX_DAY }), (days) => {
        const { year, month, day } = toUtcDateTime(days * 86_400);
        expect(utcDayStart(year, month, day)).toBe(days * 86_400);
      }),
      RUNS,
    );
  });

  test('past the time-value range the results are NaN, as Date gives them', () => {
    expect(utcDayStart(275_760, 8, 13)).toBe(MAX_CALENDAR_INSTANT);
    expect(utcDayStart(275_760, 8, 14)).toBeNaN();
    expect(utcDayStart(-271_821, 3, 20)).toBe(-MAX_CALENDAR_INSTANT);
    expect(utcDayStart(-271_821, 3, 19)).toBeNaN();
    expect(toUtcDateTime(MAX_CALENDAR_INSTANT + 1).year).toBeNaN();
  });

  test('daysInMonth follows the Gregorian leap rule, years 0 and below included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -271_000, max: 275_000 }),
        fc.integer({ min: 0, max: 11 }),
        (year, month) => {
          const next = dateDayStart(year, month + 1, 1);
          const first = dateDayStart(year, month, 1);
          expect(daysInMonth(year, month)).toBe((next - first) / 86_400);
        },
      ),
      RUNS,
    );
    expect([1900, 2000, 2100, 0, -4, -100, -400].map((y) => daysInMonth(y, 1))).toEqual([
      28, 29, 28, 29, 29, 28, 29,
    ]);
  });
});
