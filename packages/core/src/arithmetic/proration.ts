/**
 * Proration of an immediate plan change, in integer minor units (cents).
 *
 *   charge = (newPrice − oldPrice) × remaining / (periodEnd − periodStart)
 *   remaining = clamp(periodEnd − now, 0, periodEnd − periodStart)
 *
 * The quotient is computed exactly with BigInt (price × seconds exceeds 2^53 for real prices
 * and periods), then rounded once, **half away from zero**: an exact half cent rounds to the
 * larger magnitude (0.5 → 1, −0.5 → −1, 2.5 → 3). A positive charge is owed by the customer
 * (upgrade); a negative one is a credit (downgrade).
 *
 * The rule is chosen because it is odd-symmetric, round(−x) = −round(x): an upgrade and the
 * reverse downgrade at the same instant cancel exactly. Flooring, or rounding halves up
 * toward +∞ (JavaScript's Math.round), would leave a cent behind on such a round trip;
 * half-to-even would too, unless applied to magnitudes, and is harder to explain on an
 * invoice.
 */
import { ConfigError } from '../errors.js';
import { requireNonNegativeInteger, requireSafeInteger } from './guards.js';
import { divideRoundHalfAwayFromZero as roundHalfAwayFromZero } from './rounding.js';

export interface ProrationInput {
  /** Price of the current plan for one full period, minor units. */
  oldPrice: number;
  /** Price of the new plan for one full period, minor units. */
  newPrice: number;
  /** The current billing period, [periodStart, periodEnd), NumericDate seconds. */
  periodStart: number;
  periodEnd: number;
  /** When the change takes effect. */
  now: number;
}

/**
 * Amount due (positive) or credited (negative) for changing plan at `now`.
 *
 * @example
 * // $30 / 30-day plan bought 10 days before the cycle ends: $10
 * prorate({ oldPrice: 0, newPrice: 3000, periodStart: 0, periodEnd: 2_592_000, now: 1_728_000 }); // 1000
 * @throws ConfigError for a negative or non-integer price, a non-integer time, or an empty period.
 */
export function prorate(input: ProrationInput): number {
  const { oldPrice, newPrice, periodStart, periodEnd, now } = input;
  requireNonNegativeInteger(oldPrice, 'oldPrice');
  requireNonNegativeInteger(newPrice, 'newPrice');
  requireSafeInteger(periodStart, 'periodStart');
  requireSafeInteger(periodEnd, 'periodEnd');
  requireSafeInteger(now, 'now');
  if (periodEnd <= periodStart) {
    throw new ConfigError(`periodEnd (${periodEnd}) must be after periodStart (${periodStart})`);
  }

  const periodLength = BigInt(periodEnd) - BigInt(periodStart);
  const untilEnd = BigInt(periodEnd) - BigInt(now);
  const remaining = untilEnd < 0n ? 0n : untilEnd > periodLength ? periodLength : untilEnd;
  const charge = roundHalfAwayFromZero(
    (BigInt(newPrice) - BigInt(oldPrice)) * remaining,
    periodLength,
  );
  // |charge| ≤ |newPrice − oldPrice| ≤ 2^53 − 1, so the conversion is exact.
  return Number(charge);
}
