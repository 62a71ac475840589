import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { recordAdminAction } from './admin-actions.js';
import type { StoreContext } from './context.js';
import { queueMail } from './mail-outbox.js';

/**
 * Re-sending an order's receipt (admin screen). The license key is stored only as a keyed
 * hash, and the sealed copy the first receipt carried was erased once it was sent: a copy
 * cannot contain the key, and nobody — the operator included — can read it back. So the
 * copy is the receipt without the key: the order's facts, the last four characters of the
 * key (to tell which key it was), and the way to a new key — sign in to the portal with an
 * e-mail link and replace it (services/key-replacement.ts). No sign-in link is put in the
 * copy itself: a link is a credential that expires in minutes, and the customer can ask
 * for one at the moment they need it, rate-limited like every other request.
 *
 * The copy goes through the durable mail outbox as a `receipt` with `copy: true` and no
 * secret (services/mail-messages.ts renders it), to the customer's address as it is now.
 */

/** @throws StoreError ORDER_NOT_FOUND, CONFLICT (an order without a license) */
export async function resendReceipt(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'log'>,
  orderId: string,
  actor: string,
): Promise<{ mailId: string }> {
  const now = ctx.clock.now();
  const mailId = await ctx.db.transaction(async (tx: Queryable) => {
    const [order] = await tx.query<{ customer_id: string; license_id: string | null }>(
      'SELECT customer_id, license_id FROM orders WHERE id = $1',
      [orderId],
    );
    if (!order) throw new StoreError('ORDER_NOT_FOUND');
    if (order.license_id === null)
      throw new StoreError('CONFLICT', 'This order has no license: there is no receipt to send.');
    const id = await queueMail(
      tx,
      {
        kind: 'receipt',
        customerId: order.customer_id,
        data: { licenseId: order.license_id, orderId, copy: true },
      },
      now,
    );
    await recordAdminAction(
      tx,
      { actor, action: 'receipt.resent', target: orderId, detail: { mailId: id } },
      now,
    );
    return id;
  });
  ctx.log.info({ order: orderId, mail: mailId, actor }, 'receipt copy queued');
  return { mailId };
}
