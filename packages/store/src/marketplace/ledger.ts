/**
 * The store's double-entry ledger (core arithmetic/ledger.ts has the rules). Every paid
 * order with an amount books a payment in the transaction that marks it paid; every refund
 * or chargeback books its reversal with the refund. Lines are only ever inserted.
 */
import { type LedgerLine, payableAt, paymentLines, refundLines } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { seconds } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { OrderRecord } from '../repositories/orders.js';
import type { StoreContext } from '../services/context.js';
import { type Vendor, vendorOfProduct } from './vendors.js';

interface LineInsert {
  entryId: string;
  kind: 'payment' | 'refund' | 'chargeback' | 'payout';
  vendorId: string;
  orderId: string | null;
  payoutId: string | null;
  currency: string;
  /** The share a payment or refund was booked with; null for payouts. */
  shareBps: number | null;
  test: boolean;
  payableAt: Date;
  at: Date;
}

/** Inserts the lines of one entry (they sum to zero: core builds them so). */
export async function insertLines(
  tx: Queryable,
  lines: readonly LedgerLine[],
  entry: LineInsert,
): Promise<void> {
  if (lines.reduce((total, line) => total + line.amount, 0) !== 0) {
    throw new Error(`ledger entry ${entry.entryId} does not balance`);
  }
  for (const line of lines) {
    await tx.query(
      `INSERT INTO ledger_lines (entry_id, kind, vendor_id, order_id, payout_id, account,
                                 amount_minor, currency, share_bps, test, payable_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        entry.entryId,
        entry.kind,
        entry.vendorId,
        entry.orderId,
        entry.payoutId,
        line.account,
        line.amount,
        entry.currency,
        entry.shareBps,
        entry.test,
        line.account === 'vendor_payable' ? entry.payableAt : entry.at,
        entry.at,
      ],
    );
  }
}

/** When a payment's share may be paid out: after the vendor's hold in business days. */
export function holdEnd(ctx: StoreContext, vendor: Vendor, paidAt: Date): Date {
  const holidays = ctx.config.marketplace.holidayDays;
  return new Date(payableAt(seconds(paidAt), vendor.holdDays, holidays) * 1000);
}

/**
 * Books a paid order (purchase, renewal, upgrade or seat charge) once: a second call for
 * the same order does nothing. Orders of 0 book nothing; test-mode orders are booked as
 * test money, which payout runs keep apart from live money. Returns the vendor it was booked to, or undefined.
 */
export async function recordPayment(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
): Promise<Vendor | undefined> {
  if (order.status !== 'paid' || order.amount === 0) return undefined;
  const [booked] = await tx.query(
    `SELECT 1 FROM ledger_lines WHERE order_id = $1 AND kind = 'payment' LIMIT 1`,
    [order.id],
  );
  if (booked) return undefined;
  const vendor = await vendorOfProduct(tx, order.productId, ctx.config.vendor);
  const at = order.paidAt ?? ctx.clock.now();
  await insertLines(tx, paymentLines(order.amount, vendor.shareBps), {
    entryId: newId('led'),
    kind: 'payment',
    vendorId: vendor.id,
    orderId: order.id,
    payoutId: null,
    currency: order.currency,
    shareBps: vendor.shareBps,
    test: order.test,
    payableAt: holdEnd(ctx, vendor, at),
    at,
  });
  return vendor;
}

export interface BookedPayment {
  vendorId: string;
  /** The share the payment was booked with (what refunds of it must reverse). */
  vendorShareBps: number;
  paid: number;
  refundedBefore: number;
}

/** The payment of an order as booked, and what refunds already returned. */
export async function bookedPayment(
  tx: Queryable,
  orderId: string,
): Promise<BookedPayment | undefined> {
  const [row] = await tx.query<{ vendor_id: string; amount_minor: string; share_bps: number }>(
    `SELECT vendor_id, amount_minor, share_bps FROM ledger_lines
      WHERE order_id = $1 AND kind = 'payment' AND account = 'processor_clearing'`,
    [orderId],
  );
  if (!row) return undefined;
  const [refunded] = await tx.query<{ total: string | null }>(
    'SELECT SUM(amount_minor) AS total FROM refunds WHERE order_id = $1',
    [orderId],
  );
  return {
    vendorId: row.vendor_id,
    vendorShareBps: row.share_bps,
    paid: Number(row.amount_minor),
    refundedBefore: Number(refunded?.total ?? 0),
  };
}

export interface RefundBooking {
  refundId: string;
  kind: 'refund' | 'chargeback';
  amount: number;
  at: Date;
}

/** Books one refund of a booked order: reverses its share with the split rule of core. */
export async function recordRefund(
  tx: Queryable,
  order: OrderRecord,
  booked: BookedPayment,
  refund: RefundBooking,
): Promise<void> {
  await insertLines(
    tx,
    refundLines({
      paid: booked.paid,
      refundedBefore: booked.refundedBefore,
      refund: refund.amount,
      vendorShareBps: booked.vendorShareBps,
    }),
    {
      entryId: newId('led'),
      kind: refund.kind,
      vendorId: booked.vendorId,
      orderId: order.id,
      payoutId: null,
      currency: order.currency,
      shareBps: booked.vendorShareBps,
      test: order.test,
      // A refund is taken back at once: it lowers the next payout, or carries forward.
      payableAt: refund.at,
      at: refund.at,
    },
  );
}
