import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { ordersRepository } from '../repositories/orders.js';
import type { RefundKind } from './order-refunds.js';
import type { ProviderRefundStatus } from './refund-provider.js';

/** An order's refunds and chargebacks as the admin API lists them (GET …/refunds). */

export interface OrderRefund {
  id: string;
  kind: RefundKind;
  amount: number;
  currency: string;
  reason: string;
  source: 'admin' | 'processor';
  actor: string;
  providerRefund: ProviderRefundStatus | null;
  providerRef: string | null;
  providerRefundError: string | null;
  creditNote: string | null;
  createdAt: Date;
}

export interface OrderRefunds {
  orderId: string;
  orderAmount: number;
  currency: string;
  orderStatus: string;
  refundedTotal: number;
  /** What may still be refunded (0 once refunded in full). */
  left: number;
  refunds: OrderRefund[];
}

/**
 * An order's refunds and chargebacks, oldest first, with their credit notes.
 * @throws StoreError ORDER_NOT_FOUND
 */
export async function listOrderRefunds(db: Queryable, orderId: string): Promise<OrderRefunds> {
  const order = await ordersRepository(db).byId(orderId);
  if (!order) throw new StoreError('ORDER_NOT_FOUND');
  const rows = await db.query<{
    id: string;
    kind: RefundKind;
    amount_minor: string;
    currency: string;
    reason: string;
    source: 'admin' | 'processor';
    actor: string;
    provider_status: ProviderRefundStatus | null;
    provider_ref: string | null;
    provider_error: string | null;
    number: string | null;
    created_at: Date;
  }>(
    `SELECT r.id, r.kind, r.amount_minor, r.currency, r.reason, r.source, r.actor,
            r.provider_status, r.provider_ref, r.provider_error, r.created_at, i.number
       FROM refunds r LEFT JOIN invoices i ON i.refund_id = r.id
      WHERE r.order_id = $1
      -- Refunds of one order are booked one at a time (the order's row lock), so their
      -- credit notes' numbers give the order even when two share a timestamp.
      ORDER BY r.created_at, i.seq NULLS LAST, r.id`,
    [orderId],
  );
  const refunds = rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    amount: Number(row.amount_minor),
    currency: row.currency,
    reason: row.reason,
    source: row.source,
    actor: row.actor,
    providerRefund: row.provider_status,
    providerRef: row.provider_ref,
    providerRefundError: row.provider_error,
    creditNote: row.number,
    createdAt: row.created_at,
  }));
  const sum = refunds.reduce((total, refund) => total + refund.amount, 0);
  // An order refunded before the ledger has no rows: it was refunded whole.
  const refundedTotal = (order.status as string) === 'refunded' && sum === 0 ? order.amount : sum;
  return {
    orderId,
    orderAmount: order.amount,
    currency: order.currency,
    orderStatus: order.status,
    refundedTotal,
    left: order.status === 'paid' ? Math.max(0, order.amount - refundedTotal) : 0,
    refunds,
  };
}
