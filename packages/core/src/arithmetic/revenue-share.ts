/**
 * Revenue share of a marketplace sale, in integer minor units. The vendor's part is
 *
 *   vendor = round(amount × vendorShareBps / 10 000)     (half away from zero, rounding.ts)
 *   fee    = amount − vendor                              (the store keeps the remainder)
 *
 * so `vendor + fee = amount` exactly, whatever the rounding did. A refund is split on the
 * running total refunded, not on its own amount: the k-th refund of an order moves
 * split(refunded after it) − split(refunded before it). Parts of a refund therefore
 * telescope, and refunding an order in any number of pieces reverses exactly what its
 * payment credited, to the minor unit.
 */
import { ConfigError } from '../errors.js';
import { requireNonNegativeInteger, requirePositiveInteger, requireSafeInteger } from './guards.js';
import { divideRoundHalfAwayFromZero } from './rounding.js';

/** 10 000 basis points = 100 %. */
export const BASIS_POINTS = 10_000;
/** The vendor's share when none is configured: 75 %, as the Chatopera Store pays. */
export const DEFAULT_VENDOR_SHARE_BPS = 7_500;

export interface RevenueSplit {
  /** Owed to the vendor (negative for a refund). */
  vendor: number;
  /** Kept by the store. */
  fee: number;
}

export function requireShareBps(value: number, name = 'vendorShareBps'): void {
  requireNonNegativeInteger(value, name);
  if (value > BASIS_POINTS) {
    throw new ConfigError(`${name} must be at most ${BASIS_POINTS} (100 %), got ${value}`);
  }
}

/**
 * Splits an amount (a payment, or a negative amount for a reversal) between vendor and store.
 * @example splitRevenue(999, 7500) // { vendor: 749, fee: 250 } (749.25 rounds to 749)
 * @throws ConfigError for a non-integer amount or a share outside 0…10 000
 */
export function splitRevenue(amountMinor: number, vendorShareBps: number): RevenueSplit {
  requireSafeInteger(amountMinor, 'amountMinor');
  requireShareBps(vendorShareBps);
  const vendor = Number(
    divideRoundHalfAwayFromZero(BigInt(amountMinor) * BigInt(vendorShareBps), BigInt(BASIS_POINTS)),
  );
  // `+ 0` turns a −0 (from −0 × share) into 0 so views and equality stay plain.
  return { vendor: vendor + 0, fee: amountMinor - vendor + 0 };
}

export interface RefundSplitInput {
  /** What the order's payment was (minor units, ≥ 0). */
  paid: number;
  /** What earlier refunds of the order already returned. */
  refundedBefore: number;
  /** This refund (> 0); refundedBefore + refund ≤ paid. */
  refund: number;
  vendorShareBps: number;
}

/**
 * The split of one refund, as negative amounts (what the vendor and the store give back).
 * @throws ConfigError when the refund is not positive or exceeds what is left to refund
 */
export function splitRefund(input: RefundSplitInput): RevenueSplit {
  const { paid, refundedBefore, refund, vendorShareBps } = input;
  requireNonNegativeInteger(paid, 'paid');
  requireNonNegativeInteger(refundedBefore, 'refundedBefore');
  requirePositiveInteger(refund, 'refund');
  if (refundedBefore + refund > paid) {
    throw new ConfigError(
      `a refund of ${refund} after ${refundedBefore} refunded exceeds the ${paid} paid`,
    );
  }
  const after = splitRevenue(refundedBefore + refund, vendorShareBps);
  const before = splitRevenue(refundedBefore, vendorShareBps);
  return { vendor: before.vendor - after.vendor + 0, fee: before.fee - after.fee + 0 };
}
