/**
 * UTC calendar helpers for period arithmetic, built on `Date.UTC` so no local time zone can
 * leak in. Instants are NumericDate seconds.
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

export function toUtcDateTime(instant: number): UtcDateTime {
  const date = new Date(instant * 1000);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth(),
    day: date.getUTCDate(),
    secondOfDay: instant - Math.floor(instant / SECONDS_PER_DAY) * SECONDS_PER_DAY,
  };
}

/**
 * Start of a UTC day in seconds; `month` is 0-based and must be 0–11. NaN when the day lies
 * outside the time-value range.
 */
export function utcDayStart(year: number, month: number, day: number): number {
  // Not Date.UTC: it reads years 0–99 as 1900–1999 (ECMA-262 MakeFullYear), which would
  // silently move a period series that reaches back to the first century. setUTCFullYear
  // takes the year as given.
  return new Date(0).setUTCFullYear(year, month, day) / 1000;
}

/** Number of days of a month (`month` 0-based, 0–11) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(utcDayStart(year, month + 1, 0) * 1000).getUTCDate();
}
