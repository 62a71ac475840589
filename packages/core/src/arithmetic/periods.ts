/**
 * Quota periods: the billing-cycle series a `per` quota resets on (DESIGN.md "Verifier
 * state"). Periods are counted from an anchor instant; period `index` is the half-open
 * interval [start, end) and index 0 starts at the anchor. Negative indexes cover instants
 * before the anchor, so every instant of the calendar range belongs to exactly one period.
 *
 * `day` and `week` periods have a fixed length (UTC days have no leap seconds in NumericDate).
 * `month` and `year` periods start at the anchor's time of day on the anchor's day of the
 * month, clamped to the month's last day. Each start is computed from the anchor, never from
 * the previous start, so a clamp does not stick: anchor Jan 31 gives Feb 28 (or 29), Mar 31,
 * Apr 30; a yearly anchor of Feb 29 2024 gives Feb 28 2025 and Feb 29 2028.
 */
import { ConfigError } from '../errors.js';
import {
  daysInMonth,
  isCalendarInstant,
  requireCalendarInstant,
  SECONDS_PER_DAY,
  toUtcDateTime,
  type UtcDateTime,
  utcDayStart,
} from './calendar.js';
import { requireSafeInteger } from './guards.js';

export type PeriodUnit = 'day' | 'week' | 'month' | 'year';

/** One period of a series: [start, end) in NumericDate seconds. */
export interface Period {
  index: number;
  start: number;
  end: number;
}

const FIXED_LENGTH: Readonly<Record<'day' | 'week', number>> = {
  day: SECONDS_PER_DAY,
  week: 7 * SECONDS_PER_DAY,
};

const MONTHS_PER_UNIT: Readonly<Record<'month' | 'year', number>> = { month: 1, year: 12 };

export function requirePeriodUnit(unit: unknown, name: string): asserts unit is PeriodUnit {
  if (unit !== 'day' && unit !== 'week' && unit !== 'month' && unit !== 'year') {
    throw new ConfigError(`${name} must be day, week, month or year, got ${String(unit)}`);
  }
}

/**
 * Start of period `index` of the series anchored at `anchor`.
 *
 * @example
 * // anchor 2024-01-31T00:00:00Z, monthly: the next period starts 2024-02-29T00:00:00Z
 * periodStart(1706659200, 'month', 1); // 1709164800
 * @throws ConfigError for a non-integer or out-of-range input, or when the start falls outside
 *   the calendar range.
 */
export function periodStart(anchor: number, unit: PeriodUnit, index: number): number {
  requireCalendarInstant(anchor, 'anchor');
  requirePeriodUnit(unit, 'unit');
  requireSafeInteger(index, 'index');
  return startOfPeriod(anchor, toUtcDateTime(anchor), unit, index);
}

/**
 * The period of the series anchored at `anchor` that contains `t`. Constant time: the index
 * is estimated from the calendar difference and corrected by at most one step.
 *
 * @example
 * const { index, start, end } = periodAt(anchor, 'month', now); // start <= now < end
 */
export function periodAt(anchor: number, unit: PeriodUnit, t: number): Period {
  requireCalendarInstant(anchor, 'anchor');
  requirePeriodUnit(unit, 'unit');
  requireCalendarInstant(t, 't');
  return periodAtUnchecked(anchor, unit, t);
}

/**
 * {@link periodAt} for inputs already known good: instants of the calendar range and a
 * period unit (a validated license's claims and a range-checked clock). It checks only
 * that the result stays in the calendar.
 */
export function periodAtUnchecked(anchor: number, unit: PeriodUnit, t: number): Period {
  // The anchor's calendar fields, read once for every start computed below.
  const from = toUtcDateTime(anchor);
  // The estimate counts whole units between the anchor and t. For day and week it is exact.
  // For month and year it counts calendar months (years) and ignores the day and time of day,
  // so the estimated period starts inside t's own month (year): its successor starts after t,
  // and if t is before its start, its predecessor starts in an earlier month (year), before t.
  // Hence it is either right or one too high, never too low.
  let index = estimateIndex(anchor, from, unit, t);
  let start = startOfPeriod(anchor, from, unit, index);
  let end: number;
  if (t < start) {
    index -= 1;
    end = start;
    start = startOfPeriod(anchor, from, unit, index);
  } else {
    end = startOfPeriod(anchor, from, unit, index + 1);
  }
  return { index, start, end };
}

function estimateIndex(anchor: number, from: UtcDateTime, unit: PeriodUnit, t: number): number {
  if (unit === 'day' || unit === 'week') {
    return Math.floor((t - anchor) / FIXED_LENGTH[unit]);
  }
  const at = toUtcDateTime(t);
  if (unit === 'year') return at.year - from.year;
  return (at.year - from.year) * 12 + (at.month - from.month);
}

/** Inputs already validated; only the range of the result is left to check. */
function startOfPeriod(anchor: number, from: UtcDateTime, unit: PeriodUnit, index: number): number {
  const start =
    unit === 'day' || unit === 'week'
      ? anchor + index * FIXED_LENGTH[unit]
      : startOfCalendarPeriod(from, MONTHS_PER_UNIT[unit] * index);
  // An index far enough out lands beyond the range (or, for months, on NaN).
  if (!isCalendarInstant(start)) {
    throw new ConfigError(`period ${index} is outside the calendar`);
  }
  return start;
}

function startOfCalendarPeriod(from: UtcDateTime, monthsAfterAnchor: number): number {
  const monthCount = from.month + monthsAfterAnchor;
  const year = from.year + Math.floor(monthCount / 12);
  const month = monthCount - Math.floor(monthCount / 12) * 12;
  const day = Math.min(from.day, daysInMonth(year, month));
  return utcDayStart(year, month, day) + from.secondOfDay;
}
