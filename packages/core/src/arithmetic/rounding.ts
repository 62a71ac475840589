/**
 * The one rounding rule of licensekit's money arithmetic: an exact quotient rounded once,
 * half away from zero (0.5 → 1, −0.5 → −1, 2.5 → 3). It is odd-symmetric,
 * round(−x) = −round(x), so a charge and its exact reversal (a downgrade undoing an upgrade,
 * a refund undoing a payment) always cancel to the minor unit.
 */

/** numerator / denominator rounded half away from zero; denominator > 0. */
export function divideRoundHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  const magnitude = numerator < 0n ? -numerator : numerator;
  let quotient = magnitude / denominator;
  if (2n * (magnitude % denominator) >= denominator) quotient += 1n;
  return numerator < 0n ? -quotient : quotient;
}
