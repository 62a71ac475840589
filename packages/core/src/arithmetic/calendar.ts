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
 * One Date reused for reading fields: the verify path reads a quota window's calendar on
 * every call, and a Date per read was most of that cost. Safe to share: every use sets it
 * first and reads it back synchronously.
 */
const scratch = new Date(0);

/** Outside the time-value range the fields are NaN, as a `Date` there gives them. */
export function toUtcDateTime(instant: number): UtcDateTime {
  scratch.setTime(instant * 1000);
  return {
    year: scratch.getUTCFullYear(),
    month: scratch.getUTCMonth(),
    day: scratch.getUTCDate(),
    secondOfDay: instant - Math.floor(instant / SECONDS_PER_DAY) * SECONDS_PER_DAY,
  };
}

/** 400 Gregorian years, the calendar's exact repeat: 146 097 days. */
const FOUR_CENTURIES_MS = 146_097 * SECONDS_PER_DAY * 1000;

/**
 * Start of a UTC day in seconds; `month` is 0-based, and a month or day past the end
 * carries into the next ones (day 0 is the last day of the month before). NaN when the
 * day lies outside the time-value range.
 */
export function utcDayStart(year: number, month: number, day: number): number {
  // Date.UTC reads years 0–99 as 1900–1999 (ECMA-262 MakeFullYear), which would silently
  // move a period series that reaches back to the first century: those years are taken
  // 400 years later, where the calendar is the same, and moved back.
  return (
    (year >= 0 && year < 100
      ? Date.UTC(year + 400, month, day) - FOUR_CENTURIES_MS
      : Date.UTC(year, month, day)) / 1000
  );
}

/** Number of days of a month (`month` 0-based, 0–11) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  // 31, 30 alternating from January and again from August (months 0 and 7): month mod 7.
  return 31 - ((month % 7) & 1);
}
