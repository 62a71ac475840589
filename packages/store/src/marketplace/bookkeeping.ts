/**
 * The two moments money moves, as the rest of the store calls them: an order is paid,
 * an order is refunded (or charged back). Each books the ledger and issues the document
 * in the caller's transaction, so a rollback leaves neither a line nor a number behind.
 */
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { newId } from '../lib/ids.js';
import type { OrderRecord } from '../repositories/orders.js';
import type { StoreContext } from '../services/context.js';
import { type Invoice, issueCreditNote, issueInvoice } from './invoices.js';
import { bookedPayment, recordPayment, recordRefund } from './ledger.js';

/** Books a paid order and issues its invoice (once; orders of 0 book nothing). */
export async function bookPaidOrder(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
): Promise<Invoice | undefined> {
  const vendor = await recordPayment(tx, ctx, order);
  return vendor ? issueInvoice(tx, ctx, order, vendor) : undefined;
}

export interface RefundInput {
  /** Minor units; absent = everything not refunded yet. */
  amount?: number | undefined;
  kind?: 'refund' | 'chargeback' | undefined;
  reason?: string | undefined;
  at: Date;
}

export interface BookedRefund {
  refundId: string;
  amount: number;
  /** What the order's refunds add up to now. */
  refundedTotal: number;
  /** True when nothing of the order is left to refund. */
  full: boolean;
  creditNote: Invoice;
}

/**
 * Records a refund of a booked order: the refund row, its reversing ledger entry and its
 * credit note. The caller holds the order's row lock (refunds of one order queue on it).
 * @throws StoreError CONFLICT when the order has no booked payment or the amount exceeds
 *   what is left; BAD_REQUEST for an amount that is not a positive whole number
 */
export async function bookRefund(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
  input: RefundInput,
): Promise<BookedRefund> {
  const booked = await bookedPayment(tx, order.id);
  if (!booked)
    throw new StoreError(
      'CONFLICT',
      'Nothing was booked for this order: there is nothing to refund.',
    );
  const left = booked.paid - booked.refundedBefore;
  const amount = input.amount ?? left;
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new StoreError('BAD_REQUEST', 'A refund is a positive whole number of minor units.');
  }
  if (amount > left) {
    throw new StoreError('CONFLICT', `Only ${left} minor units of this order are left to refund.`);
  }
  const refundId = newId('ref');
  const kind = input.kind ?? 'refund';
  const reason = (input.reason ?? '').slice(0, 500);
  await tx.query(
    `INSERT INTO refunds (id, order_id, kind, amount_minor, currency, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [refundId, order.id, kind, amount, order.currency, reason, input.at],
  );
  await recordRefund(tx, order, booked, { refundId, kind, amount, at: input.at });
  const creditNote = await issueCreditNote(tx, ctx, order, {
    id: refundId,
    amount,
    reason,
    at: input.at,
  });
  const refundedTotal = booked.refundedBefore + amount;
  return { refundId, amount, refundedTotal, full: refundedTotal === booked.paid, creditNote };
}
