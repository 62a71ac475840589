import type { Queryable } from '../db/client.js';
import { newId } from '../lib/ids.js';
import { orderVendorSql } from '../marketplace/vendors.js';
import { queueEventMail } from './mail-events.js';

/** Webhook event types (DESIGN.md "Store": outgoing webhooks). */
export const EVENT_TYPES = [
  'license.created',
  'license.renewed',
  'license.plan_changed',
  'license.cancelled',
  'license.expiring_soon',
  'quota.low',
  'quota.exhausted',
  'quota.overused',
  'license.payment_failed',
  'license.key_replaced',
  'order.refunded',
  'order.charged_back',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Records an event in the durable outbox, in the caller's transaction: one message per
 * active endpoint subscribed to the type. If the transaction rolls back, no webhook goes
 * out; once it commits, delivery survives restarts (the outbox is a table). The customer's
 * e-mail about the same change, if it has one, is queued with it (services/mail-events.ts).
 * Returns the message ids.
 */
export async function emitEvent(
  tx: Queryable,
  type: EventType,
  data: Record<string, unknown>,
  at: Date,
): Promise<string[]> {
  // Operator endpoints (vendor_id NULL) get every event; a vendor's endpoint only the
  // events of its products (the event's product, or its license's or order's; a product
  // without vendor_id is the store vendor's). An event naming no product goes to none.
  // An order's own events (refunds, chargebacks) go to the vendor the order belongs to —
  // booked to (marketplace/vendors.ts orderVendorSql) — not to whoever sells its product
  // now: after a product moved, the refund of an earlier sale takes money back from the
  // vendor that sold it, which must hear of it, and is no business of the new vendor.
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const storeVendor = '(SELECT v.id FROM vendors v WHERE v.store LIMIT 1)';
  const endpoints = await tx.query<{ id: string }>(
    `SELECT e.id FROM webhook_endpoints e
      WHERE e.active AND (jsonb_array_length(e.events) = 0 OR e.events ? $1)
        AND (e.vendor_id IS NULL OR e.vendor_id = CASE WHEN $5::boolean
          THEN (SELECT ${orderVendorSql(storeVendor)} FROM orders o WHERE o.id = $4::text)
          ELSE (SELECT COALESCE(p.vendor_id, ${storeVendor})
            FROM products p
           WHERE p.id = COALESCE($2::text,
                   (SELECT l.product_id FROM licenses l WHERE l.id = $3::text),
                   (SELECT o.product_id FROM orders o WHERE o.id = $4::text))) END)`,
    [
      type,
      text(data.productId),
      text(data.licenseId),
      text(data.orderId),
      type.startsWith('order.'),
    ],
  );
  const ids: string[] = [];
  for (const endpoint of endpoints) {
    const id = newId('msg');
    await tx.query(
      `INSERT INTO webhook_outbox (id, endpoint_id, type, payload, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $5)`,
      [id, endpoint.id, type, JSON.stringify({ type, timestamp: at.toISOString(), data }), at],
    );
    ids.push(id);
  }
  await queueEventMail(tx, type, data, at);
  return ids;
}
