/**
 * Tax included in a price: the store's prices are what the customer pays, so an invoice
 * shows the net and the tax inside it,
 *
 *   net = round(total × 10 000 / (10 000 + rateBps))     (half away from zero)
 *   tax = total − net
 *
 * which keeps net + tax = total exactly, and a credit note (−total) mirrors its invoice.
 */
import { requireSafeInteger } from './guards.js';
import { requireShareBps } from './revenue-share.js';
import { divideRoundHalfAwayFromZero } from './rounding.js';

export function splitIncludedTax(
  totalMinor: number,
  rateBps: number,
): { net: number; tax: number } {
  requireSafeInteger(totalMinor, 'totalMinor');
  requireShareBps(rateBps, 'rateBps');
  const net = Number(
    divideRoundHalfAwayFromZero(BigInt(totalMinor) * 10_000n, BigInt(10_000 + rateBps)),
  );
  return { net: net + 0, tax: totalMinor - net + 0 };
}
