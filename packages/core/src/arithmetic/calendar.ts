/**
 * UTC calendar helpers for period arithmetic, built on `Date.UTC` so no local time zone can
 * leak in. Instants are NumericDate seconds.
 */
import { ConfigError } from '../errors.js';
import { requireSafeInteger } from './guards.js';

export const SECONDS_PER_DAY = 86_400;

/**
 * ECMAScript time values span ±8.64e15 ms (ECMA-262 "Time Values and Time Range"), i.e.
 * ±8.64e12 s, about ±275 000 years. Calendar arithmetic is defined only there; inside it
 * every sum and difference of two instants is far below 2^53, so it stays exact.
 */
export const MAX_CALENDAR_INSTANT = 8_640_000_000_000;

/** 400 Gregorian years are exactly 146 097 days: the calendar repeats with that cycle. */
const SECONDS_PER_GREGORIAN_CYCLE = 146_097 * SECONDS_PER_DAY;

export function isCalendarInstant(value: number): boolean {
  // Written so that NaN fails too.
  return Number.isSafeInteger(value) && Math.abs(value) <= MAX_CALENDAR_INSTANT;
}

export function requireCalendarInstant(value: number, name: string): void {
  requireSafeInteger(value, name);
  if (!isCalendarInstant(value)) {
    throw new ConfigError(
      `${name} must lie within ±${MAX_CALENDAR_INSTANT} s of the epoch, got ${String(value)}`,
    );
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
  // Date.UTC reads years 0–99 as 1900–1999 (ECMA-262 MakeFullYear), which would silently move
  // a period series that reaches back to the first century. Compute those one Gregorian cycle
  // later and shift back.
  if (year >= 0 && year <= 99) {
    return Date.UTC(year + 400, month, day) / 1000 - SECONDS_PER_GREGORIAN_CYCLE;
  }
  return Date.UTC(year, month, day) / 1000;
}

/** Number of days of a month (`month` 0-based, 0–11) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; year 0–99 shifting as above is not
  // needed because leap years repeat with the 400-year cycle.
  const probeYear = year >= 0 && year <= 99 ? year + 400 : year;
  return new Date(Date.UTC(probeYear, month + 1, 0)).getUTCDate();
}
