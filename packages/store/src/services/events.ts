import type { Queryable } from '../db/client.js';
import { newId } from '../lib/ids.js';
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
  const endpoints = await tx.query<{ id: string }>(
    `SELECT id FROM webhook_endpoints
      WHERE active AND (jsonb_array_length(events) = 0 OR events ? $1)`,
    [type],
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
