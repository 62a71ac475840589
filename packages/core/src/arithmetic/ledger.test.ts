import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors.js';
import { holidayDays, isBusinessDay, payableAt } from './business-days.js';
import { balances, type LedgerLine, paymentLines, payoutLines, refundLines } from './ledger.js';
import { prorate } from './proration.js';
import { splitRefund, splitRevenue } from './revenue-share.js';
import { splitIncludedTax } from './tax.js';

const RUNS = { numRuns: 1000, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: true };
const DAY = 86_400;
const amount = fc.integer({ min: 0, max: 10 ** 12 });
const bps = fc.integer({ min: 0, max: 10_000 });
const sum = (lines: readonly LedgerLine[]) => lines.reduce((total, line) => total + line.amount, 0);

/** An order's refunds: positive parts whose total is at most what was paid. */
const refunds = amount.chain((paid) =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, paid) }), { maxLength: 6 }).map((parts) => {
    const kept: number[] = [];
    let total = 0;
    for (const part of parts) {
      if (total + part > paid) break;
      kept.push(part);
      total += part;
    }
    return { paid, parts: kept };
  }),
);

describe('revenue share', () => {
  test('vendor + fee = amount exactly, and the vendor part is the rounded exact share', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), bps, (value, share) => {
        const { vendor, fee } = splitRevenue(value, share);
        expect(vendor + fee).toBe(value);
        // |vendor − value × share / 10 000| ≤ 1/2
        const error = 2n * (BigInt(vendor) * 10_000n - BigInt(value) * BigInt(share));
        expect(error <= 10_000n && error >= -10_000n).toBe(true);
        expect(splitRevenue(-value, share)).toEqual({ vendor: -vendor + 0, fee: -fee + 0 });
      }),
      RUNS,
    );
  });

  test('documented examples', () => {
    expect(splitRevenue(999, 7500)).toEqual({ vendor: 749, fee: 250 });
    expect(splitRevenue(2, 7500)).toEqual({ vendor: 2, fee: 0 }); // 1.5 rounds away from zero
    expect(splitRevenue(10_000, 7500)).toEqual({ vendor: 7500, fee: 2500 });
    expect(splitRevenue(0, 7500)).toEqual({ vendor: 0, fee: 0 });
  });

  test('refunds in any pieces reverse exactly what the payment credited', () => {
    fc.assert(
      fc.property(refunds, bps, ({ paid, parts }, share) => {
        const lines = [...paymentLines(paid, share)];
        let refundedBefore = 0;
        for (const refund of parts) {
          const step = refundLines({ paid, refundedBefore, refund, vendorShareBps: share });
          expect(sum(step)).toBe(0);
          lines.push(...step);
          refundedBefore += refund;
        }
        const left = balances(lines);
        const rest = splitRevenue(paid - refundedBefore, share);
        // What remains owed is at most one minor unit from the share of what was kept, and
        // exactly nothing once everything is refunded.
        expect(Math.abs(-(left.vendor_payable ?? 0) - rest.vendor)).toBeLessThanOrEqual(1);
        expect(left.processor_clearing).toBe(paid - refundedBefore);
        if (refundedBefore === paid) {
          expect(left.vendor_payable).toBe(0);
          expect(left.store_fees).toBe(0);
        }
      }),
      RUNS,
    );
  });

  test('a refund beyond what is left, or not positive, is refused', () => {
    expect(() =>
      splitRefund({ paid: 100, refundedBefore: 60, refund: 41, vendorShareBps: 7500 }),
    ).toThrow(ConfigError);
    expect(() =>
      splitRefund({ paid: 100, refundedBefore: 0, refund: 0, vendorShareBps: 7500 }),
    ).toThrow(ConfigError);
    expect(() => splitRevenue(100, 10_001)).toThrow(ConfigError);
    expect(() => splitRevenue(0.5, 7500)).toThrow(ConfigError);
  });
});

describe('ledger lines', () => {
  test('every movement sums to zero', () => {
    fc.assert(
      fc.property(amount, bps, (value, share) => {
        expect(sum(paymentLines(value, share))).toBe(0);
        expect(sum(payoutLines(value))).toBe(0);
      }),
      RUNS,
    );
  });

  test('a prorated upgrade charge is booked exactly as core prorates it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 7 }),
        fc.integer({ min: 0, max: 10 ** 7 }),
        fc.integer({ min: 1, max: 366 * DAY }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        bps,
        (oldPrice, newPrice, length, at, share) => {
          const charge = prorate({
            oldPrice,
            newPrice: oldPrice + newPrice,
            periodStart: 0,
            periodEnd: length,
            now: Math.floor(length * at),
          });
          const lines = paymentLines(charge, share);
          expect(lines[0]).toEqual({ account: 'processor_clearing', amount: charge });
          expect(-(lines[1]!.amount + lines[2]!.amount)).toBe(charge);
        },
      ),
      RUNS,
    );
  });
});

describe('payout hold in business days', () => {
  const at = (iso: string) => Date.parse(iso) / 1000;
  const none = new Set<number>();

  test('examples: weekends and holidays skipped, the payment day never counts', () => {
    // Friday 2026-12-04 15:00 → the next business day is Monday 2026-12-07.
    expect(payableAt(at('2026-12-04T15:00:00Z'), 1)).toBe(at('2026-12-07T00:00:00Z'));
    // Saturday counts from Monday.
    expect(payableAt(at('2026-12-05T09:00:00Z'), 1)).toBe(at('2026-12-07T00:00:00Z'));
    // 22 business days from Tuesday 2026-12-01: 2026-12-31, or 2027-01-04 when the 25th and
    // the 31st are holidays (two more business days are needed).
    expect(payableAt(at('2026-12-01T10:00:00Z'), 22)).toBe(at('2026-12-31T00:00:00Z'));
    const holidays = holidayDays(['2026-12-25', '2026-12-31']);
    expect(payableAt(at('2026-12-01T10:00:00Z'), 22, holidays)).toBe(at('2027-01-04T00:00:00Z'));
    expect(payableAt(at('2026-12-01T10:00:00Z'), 0)).toBe(at('2026-12-01T10:00:00Z'));
  });

  test('the result is midnight of a business day, exactly N business days later', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800 }), // 1970 … 2100
        fc.integer({ min: 1, max: 60 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 120 }), { maxLength: 10 }),
        (paidAt, hold, offsets) => {
          const first = Math.floor(paidAt / DAY);
          const holidays = new Set(offsets.map((offset) => first + offset));
          const result = payableAt(paidAt, hold, holidays);
          expect(result % DAY).toBe(0);
          const last = result / DAY;
          expect(isBusinessDay(last, holidays)).toBe(true);
          let counted = 0;
          for (let day = first + 1; day <= last; day++) if (isBusinessDay(day, holidays)) counted++;
          expect(counted).toBe(hold);
          // Monotone: a later payment is never payable earlier.
          expect(payableAt(paidAt + DAY, hold, holidays)).toBeGreaterThanOrEqual(result);
        },
      ),
      { ...RUNS, numRuns: 300 },
    );
  });

  test('bad holidays and holds are refused', () => {
    expect(() => holidayDays(['2026-02-30'])).toThrow(ConfigError);
    expect(() => holidayDays(['26-12-25'])).toThrow(ConfigError);
    expect(() => payableAt(0, -1, none)).toThrow(ConfigError);
    expect(() => payableAt(0.5, 1, none)).toThrow(ConfigError);
    expect(() => payableAt(0, 100_000, none)).toThrow(ConfigError);
  });
});

describe('tax included in a price', () => {
  test('net + tax = total, the net is the rounded exact quotient, a credit mirrors', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), bps, (total, rate) => {
        const { net, tax } = splitIncludedTax(total, rate);
        expect(net + tax).toBe(total);
        const error = 2n * (BigInt(net) * BigInt(10_000 + rate) - BigInt(total) * 10_000n);
        expect(error <= BigInt(10_000 + rate) && error >= -BigInt(10_000 + rate)).toBe(true);
        expect(splitIncludedTax(-total, rate)).toEqual({ net: -net + 0, tax: -tax + 0 });
      }),
      RUNS,
    );
    expect(splitIncludedTax(11_900, 1_900)).toEqual({ net: 10_000, tax: 1_900 });
    expect(splitIncludedTax(999, 0)).toEqual({ net: 999, tax: 0 });
  });
});
