/**
 * UTC calendar helpers for period arithmetic, on the UTC side of `Date` only, so no local
 * time zone can leak in. Instants are NumericDate seconds.
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
 * Day numbers and dates convert in integer arithmetic: the verify path reads a quota
 * window's calendar on every call, and each read of a `Date` field is a call into the
 * runtime. The calendar repeats every 400 years (146 097 days); counted from 1 March, a
 * year's leap day is its last day, so a date's day of the year has a closed form. The
 * property tests hold both functions to `Date` over the whole time-value range.
 */
const DAYS_PER_ERA = 146_097;
/** Days from 0000-03-01, the start of an era, to 1970-01-01. */
const DAYS_BEFORE_EPOCH = 719_468;

/** Outside the time-value range the fields are NaN, as a `Date` there gives them. */
export function toUtcDateTime(instant: number): UtcDateTime {
  if (!(Math.abs(instant) <= MAX_CALENDAR_INSTANT)) {
    return { year: Number.NaN, month: Number.NaN, day: Number.NaN, secondOfDay: Number.NaN };
  }
  const days = Math.floor(instant / SECONDS_PER_DAY);
  const shifted = days + DAYS_BEFORE_EPOCH;
  const era = Math.floor(shifted / DAYS_PER_ERA);
  const dayOfEra = shifted - era * DAYS_PER_ERA;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  // Months from March: 31, 30, 31, 30, 31 repeat, which 153 days per 5 months encodes.
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const month = monthFromMarch < 10 ? monthFromMarch + 2 : monthFromMarch - 10;
  return {
    year: yearOfEra + era * 400 + (month < 2 ? 1 : 0),
    month,
    day: dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1,
    secondOfDay: instant - days * SECONDS_PER_DAY,
  };
}

/**
 * Start of a UTC day in seconds; `month` is 0-based, and a month or day past the end
 * carries into the next ones (day 0 is the last day of the month before). NaN when the
 * day lies outside the time-value range.
 */
export function utcDayStart(year: number, month: number, day: number): number {
  const carried = year + Math.floor(month / 12);
  const monthOfYear = month - Math.floor(month / 12) * 12;
  // Years counted from March: January and February belong to the year before.
  const marchYear = monthOfYear < 2 ? carried - 1 : carried;
  const era = Math.floor(marchYear / 400);
  const yearOfEra = marchYear - era * 400;
  const monthFromMarch = monthOfYear < 2 ? monthOfYear + 10 : monthOfYear - 2;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const start = (era * DAYS_PER_ERA + dayOfEra - DAYS_BEFORE_EPOCH) * SECONDS_PER_DAY;
  return Math.abs(start) <= MAX_CALENDAR_INSTANT ? start : Number.NaN;
}

/** Number of days of a month (`month` 0-based, 0–11) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  // 31, 30 alternating from January and again from August (months 0 and 7): month mod 7.
  return 31 - ((month % 7) & 1);
}
