/**
 * Payout holds counted in business days (Chatopera Store pays after 22 working days):
 * Saturdays, Sundays and the configured holidays (UTC calendar dates) do not count.
 *
 * Rule: money from a payment at instant t becomes payable at 00:00 UTC of the N-th business
 * day after t's UTC date. The payment's own day never counts, whatever the hour, so two
 * payments of one day always become payable together. A hold of 0 days makes it payable at
 * t itself.
 */
import { ConfigError } from '../errors.js';
import { requireCalendarInstant, SECONDS_PER_DAY } from './calendar.js';
import { requireNonNegativeInteger } from './guards.js';

/** Longest hold accepted: ten years of business days, far beyond any payout policy. */
export const MAX_HOLD_BUSINESS_DAYS = 2_610;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Day numbers (days since 1970-01-01 UTC) of holiday dates written `YYYY-MM-DD`.
 * @throws ConfigError naming the first entry that is not a real calendar date
 */
export function holidayDays(dates: readonly string[]): ReadonlySet<number> {
  const days = new Set<number>();
  for (const date of dates) {
    const match = ISO_DATE.exec(date);
    const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
    // Date.UTC rolls 2026-02-30 over to March: a real date survives the round trip.
    if (!match || new Date(ms).toISOString().slice(0, 10) !== date) {
      throw new ConfigError(`holiday ${JSON.stringify(date)} is not a date written YYYY-MM-DD`);
    }
    days.add(ms / 86_400_000);
  }
  return days;
}

/** 0 = Sunday … 6 = Saturday for a day number (1970-01-01 was a Thursday). */
function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isBusinessDay(day: number, holidays: ReadonlySet<number>): boolean {
  const dow = weekday(day);
  return dow !== 0 && dow !== 6 && !holidays.has(day);
}

/**
 * When money from a payment at `paidAt` (NumericDate seconds) may be paid out.
 * @example payableAt(Date.parse('2026-12-04T15:00:00Z') / 1000, 1) // Monday 2026-12-07 00:00 UTC
 * @throws ConfigError for a non-integer instant or a hold outside 0…MAX_HOLD_BUSINESS_DAYS
 */
export function payableAt(
  paidAt: number,
  holdBusinessDays: number,
  holidays: ReadonlySet<number> = new Set(),
): number {
  requireCalendarInstant(paidAt, 'paidAt');
  requireNonNegativeInteger(holdBusinessDays, 'holdBusinessDays');
  if (holdBusinessDays > MAX_HOLD_BUSINESS_DAYS) {
    throw new ConfigError(
      `holdBusinessDays must be at most ${MAX_HOLD_BUSINESS_DAYS}, got ${holdBusinessDays}`,
    );
  }
  if (holdBusinessDays === 0) return paidAt;
  let day = Math.floor(paidAt / SECONDS_PER_DAY);
  let counted = 0;
  // A holiday list cannot make every day a holiday for long: it is finite, so this ends.
  while (counted < holdBusinessDays) {
    day += 1;
    if (isBusinessDay(day, holidays)) counted += 1;
  }
  return day * SECONDS_PER_DAY;
}
