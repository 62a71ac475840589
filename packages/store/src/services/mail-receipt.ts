import type { Queryable } from '../db/client.js';
import type { Secrets } from '../lib/secrets.js';
import { queueMail } from './mail-outbox.js';

/**
 * The receipt, queued by the checkout in its own transaction while the new license key is
 * still in memory: it is the mail that delivers the key, so it is sent once per order (an
 * idempotent replay of the checkout does not run it again) and only if the order commits.
 * Why the outbox rather than sending after the commit: a mail server that is down, or a
 * store that stops, must not lose the only copy of the key the customer may ever get. The
 * key is therefore sealed in the row (services/mail-sealing.ts) and erased once sent.
 */
export async function queueReceipt(
  tx: Queryable,
  secrets: Secrets,
  receipt: { customerId: string; licenseId: string; orderId: string; key: string },
  at: Date,
): Promise<void> {
  await queueMail(
    tx,
    {
      kind: 'receipt',
      customerId: receipt.customerId,
      data: { licenseId: receipt.licenseId, orderId: receipt.orderId },
      secret: { value: receipt.key, secrets },
    },
    at,
  );
}
