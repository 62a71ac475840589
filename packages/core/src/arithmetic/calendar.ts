/**
 * UTC calendar helpers for period arithmetic, in integer arithmetic on day counts, so no
 * local time zone can leak in (calendar.test.ts checks them against `Date` over the whole
 * time-value range). Instants are NumericDate seconds.
 */
import { ConfigError } from '../errors.js';

export const SECONDS_PER_DAY = 86_400;

/**
 * ECMAScript time values span ±8.64e15 ms (ECMA-262 "Time Values and Time Range"), i.e.
 * ±8.64e12 s, about ±275 000 years. Calendar arithmetic is defined only there; inside it
 * every sum and difference of two instants is far below 2^53, so it stays exact.
 */
export const MAX_CALENDAR_INSTANT = 8_640_000_000_000;

export function isCalendarInstant(value: number): boolean {
  // Written so that NaN fails too.
  return Number.isSafeInteger(value) && Math.abs(value) <= MAX_CALENDAR_INSTANT;
}

export function requireCalendarInstant(value: number, name: string): void {
  if (!isCalendarInstant(value)) {
    throw new ConfigError(`${name} must be an integer in the calendar range, got ${String(value)}`);
  }
}

/** A UTC calendar date with the time of day, as the anchor of a period series. */
export interface UtcDateTime {
  year: number;
  /** 0 = January, as in `Date`. */
  month: number;
  /** 1-based day of the month. */
  day: number;
  /** Seconds since 00:00:00 UTC of that day. */
  secondOfDay: number;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (`month` 1–12), and
 * back. Integer arithmetic over whole 400-year eras (146 097 days each, the calendar's
 * exact repeat): no Date object, which costs a quota window several allocations and
 * host calls on every verify. The era count uses floor division, so years before 1970,
 * year 0 and negative years come out as the proleptic calendar has them.
 */
const DAYS_PER_ERA = 146_097;
/** Days from 0000-03-01 (the era origin: a year counted from March puts 29 February last) to 1970-01-01. */
const EPOCH_DAY_OF_ERAS = 719_468;

function daysFromCivil(year: number, month: number, day: number): number {
  const marchYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(marchYear / 400);
  const yearOfEra = marchYear - era * 400;
  const monthFromMarch = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * DAYS_PER_ERA + dayOfEra - EPOCH_DAY_OF_ERAS;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const shifted = days + EPOCH_DAY_OF_ERAS;
  const era = Math.floor(shifted / DAYS_PER_ERA);
  const dayOfEra = shifted - era * DAYS_PER_ERA;
  // 1460, 36 524 and 146 096 days: where the 4-, 100- and 400-year leap rules add a day.
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 2 : monthFromMarch - 10;
  return { year: era * 400 + yearOfEra + (month < 2 ? 1 : 0), month, day };
}

/** Outside the time-value range the fields are NaN, as a `Date` there would give them. */
export function toUtcDateTime(instant: number): UtcDateTime {
  const days = Math.floor(instant / SECONDS_PER_DAY);
  const secondOfDay = instant - days * SECONDS_PER_DAY;
  if (!(Math.abs(instant) <= MAX_CALENDAR_INSTANT)) {
    return { year: Number.NaN, month: Number.NaN, day: Number.NaN, secondOfDay };
  }
  const { year, month, day } = civilFromDays(days);
  return { year, month, day, secondOfDay };
}

/**
 * Start of a UTC day in seconds; `month` is 0-based, and a month or day past the end
 * carries into the next ones (day 0 is the last day of the month before), as
 * `Date.prototype.setUTCFullYear` does. NaN when the day lies outside the time-value range.
 * Years 0–99 are those years, not 1900–1999 as `Date.UTC` would read them.
 */
export function utcDayStart(year: number, month: number, day: number): number {
  const carriedYear = year + Math.floor(month / 12);
  const monthOfYear = month - Math.floor(month / 12) * 12;
  const start = (daysFromCivil(carriedYear, monthOfYear + 1, 1) + day - 1) * SECONDS_PER_DAY;
  return Math.abs(start) <= MAX_CALENDAR_INSTANT ? start : Number.NaN;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days of a month (`month` 0-based, 0–11) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return month === 1 && isLeapYear(year) ? 29 : (MONTH_LENGTHS[month] ?? Number.NaN);
}
