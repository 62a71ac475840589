import type { Db } from '../db/client.js';
import { StoreError } from '../errors.js';
import { recordAdminAction } from './admin-actions.js';

/**
 * Redelivering a webhook message (admin screen): the same message — same `webhook-id`, so
 * a receiver that already processed it dedupes it, same payload — goes out again through
 * the durable outbox (services/outbox.ts) with a fresh retry schedule: attempts start over
 * and the delivered/failed marks are cleared. A message still waiting for its next attempt
 * is moved up to now. A message being sent at this moment (claimed by a worker) is refused
 * with a 409 rather than raced.
 */

/** @throws StoreError WEBHOOK_ENDPOINT_NOT_FOUND, NOT_FOUND (message), CONFLICT (in flight) */
export async function redeliverMessage(
  db: Db,
  request: { endpointId: string; messageId: string; actor: string },
  now: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    const endpoint = await tx.query('SELECT 1 FROM webhook_endpoints WHERE id = $1', [
      request.endpointId,
    ]);
    if (endpoint.length === 0) throw new StoreError('WEBHOOK_ENDPOINT_NOT_FOUND');
    const [message] = await tx.query<{ locked_until: Date | null; type: string }>(
      `SELECT locked_until, type FROM webhook_outbox WHERE id = $1 AND endpoint_id = $2 FOR UPDATE`,
      [request.messageId, request.endpointId],
    );
    if (!message) throw new StoreError('NOT_FOUND', 'No such message for this endpoint.');
    if (message.locked_until !== null && new Date(message.locked_until) > now)
      throw new StoreError(
        'CONFLICT',
        'This message is being sent right now; try again in a minute.',
      );
    await tx.query(
      `UPDATE webhook_outbox
          SET attempts = 0, next_attempt_at = $2, delivered_at = NULL, failed_at = NULL,
              last_error = NULL, locked_until = NULL
        WHERE id = $1`,
      [request.messageId, now],
    );
    await recordAdminAction(
      tx,
      {
        actor: request.actor,
        action: 'webhook.redelivered',
        target: request.messageId,
        detail: { endpointId: request.endpointId, type: message.type },
      },
      now,
    );
  });
}
