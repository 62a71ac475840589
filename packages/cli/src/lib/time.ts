import { parseDuration } from './duration.js';
import { quote, UsageError } from './errors.js';

// 10^11 seconds is the year 5138, while Date.now() in milliseconds has been above 10^12
// since 2001: a number that long is milliseconds passed where seconds were meant.
const MILLISECONDS_SUSPECT = 100_000_000_000;

const EPOCH = /^\d{1,15}$/;
// ISO 8601 / RFC 3339: a date, optionally a time (T or space), optionally a zone.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses a time flag (`--now`, `--exp`) into NumericDate seconds. Accepted: Unix seconds
 * (`1767225600`), a date (`2026-01-01`, midnight UTC), or an ISO 8601 date-time with
 * or without seconds and zone (`2026-01-01T12:00Z`, `2026-01-01T12:00:00+02:00`). A
 * date-time without a zone is UTC, never local time: the same command must mean the
 * same instant on every machine. Fractions of a second are dropped (NumericDates are
 * whole seconds).
 *
 * A leading `+` means a duration after the real clock: `+33d`.
 *
 * @example parseTime('2026-01-01', '--now') // 1767225600
 * @example parseTime('+7d', '--now') // now + 604 800
 * @throws UsageError naming the flag and the accepted forms
 */
export function parseTime(text: string, flag: string, clock: () => number = Date.now): number {
  const value = text.trim();
  const invalid = (why: string) =>
    new UsageError(
      `${flag} ${quote(text)} ${why}; give Unix seconds, an ISO date such as 2026-01-01 or 2026-01-01T12:00:00Z, or +DURATION from now such as +33d`,
    );
  // "+33d": that long after the real clock, for trying a token's future ("--now +40d").
  if (value.startsWith('+'))
    return Math.floor(clock() / 1000) + parseDuration(value.slice(1), flag);
  if (EPOCH.test(value)) {
    const seconds = Number(value);
    if (seconds >= MILLISECONDS_SUSPECT) throw invalid('looks like milliseconds');
    return seconds;
  }
  const match = ISO.exec(value);
  if (match === null) throw invalid('is not a time');
  const [, y, mo, d, h = '0', mi = '0', s = '0', , sign, offsetHours, offsetMinutes] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw invalid('is not a calendar date');
  }
  if (hour > 23 || minute > 59 || second > 59) throw invalid('is not a time of day');
  let offset = 0;
  if (sign !== undefined) {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (oh > 23 || om > 59) throw invalid('has an impossible UTC offset');
    offset = (sign === '-' ? -1 : 1) * (oh * 3_600 + om * 60);
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  const seconds = date.getTime() / 1000 - offset;
  if (seconds < 0) throw invalid('is before 1970');
  return seconds;
}

/** NumericDate seconds as ISO 8601 UTC without milliseconds: 2026-01-01T00:00:00Z. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
