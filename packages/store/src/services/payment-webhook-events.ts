import type { Queryable } from '../db/client.js';

/**
 * Records a payment processor's webhook-id in the caller's transaction (table
 * payment_webhook_events, kept 31 days): true the first time, false for a replay, which
 * the caller then acknowledges without doing anything again.
 */
export async function recordPaymentWebhook(
  tx: Queryable,
  event: { provider: string; id: string; type: string },
  at: Date,
): Promise<boolean> {
  const fresh = await tx.query(
    `INSERT INTO payment_webhook_events (provider, id, type, received_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (provider, id) DO NOTHING RETURNING id`,
    [event.provider, event.id, event.type.slice(0, 100), at],
  );
  return fresh.length > 0;
}
