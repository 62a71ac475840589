import type { Db } from '../db/client.js';
import { StoreError } from '../errors.js';
import { bookRefund } from '../marketplace/bookkeeping.js';
import { bookedPayment } from '../marketplace/ledger.js';
import { ordersRepository } from '../repositories/orders.js';
import { recordAdminAction } from './admin-actions.js';
import type { StoreContext } from './context.js';
import type { RevocationsService } from './revocations.js';
import { revokeLicense } from './revocations.js';

/**
 * Refunding an order, in full, from the admin screen. The store records the refund — the
 * order becomes `refunded` (refunded_at set), the ledger books the reversal and a credit
 * note is issued (marketplace/bookkeeping.ts), with an audit entry — and, when asked, ends
 * the license the order paid for by revoking it (refresh answers 403 from then on and the
 * next revocation list names it, so apps offline learn it too). The money itself is the
 * payment provider's: nothing moved for a test order, a manual order is returned by hand,
 * and a processor's order is refunded in the processor too (the page says which).
 *
 * Only a paid order with an amount can be refunded; a second refund is a 409, so a double
 * submit cannot refund twice. The refund commits before the revocation runs (its own
 * transaction, services/revocations.ts): a revocation that fails leaves a refunded order
 * whose license the operator can still revoke — never a revoked license without a refund.
 */

export interface RefundRequest {
  reason: string;
  /** Also revoke the license the order belongs to. */
  revokeLicense: boolean;
  /** Who asked (the audit trail's actor). */
  actor: string;
}

export interface RefundOutcome {
  orderId: string;
  amount: number;
  currency: string;
  provider: string;
  licenseId: string | null;
  licenseRevoked: boolean;
}

type RefundContext = StoreContext & { db: Db; revocations: RevocationsService };

/** @throws StoreError ORDER_NOT_FOUND, CONFLICT (not paid, nothing charged, already refunded) */
export async function refundOrder(
  ctx: RefundContext,
  orderId: string,
  request: RefundRequest,
): Promise<RefundOutcome> {
  const now = ctx.clock.now();
  const refunded = await ctx.db.transaction(async (tx) => {
    const [order] = await tx.query<{
      status: string;
      license_id: string | null;
      amount_minor: number | string;
      currency: string;
      provider: string;
    }>(
      `SELECT status, license_id, amount_minor, currency, provider FROM orders
        WHERE id = $1 FOR UPDATE`,
      [orderId],
    );
    if (!order) throw new StoreError('ORDER_NOT_FOUND');
    if (order.status === 'refunded')
      throw new StoreError('CONFLICT', 'This order is already refunded.');
    if (order.status !== 'paid')
      throw new StoreError(
        'CONFLICT',
        `Only a paid order can be refunded; this one is ${order.status}.`,
      );
    const amount = Number(order.amount_minor);
    if (amount === 0)
      throw new StoreError(
        'CONFLICT',
        'Nothing was charged for this order: there is nothing to refund.',
      );
    // The money side (marketplace/bookkeeping.ts): the reversing ledger entry and a credit
    // note, in this transaction under this row lock. An order paid before the ledger
    // existed has no booked payment, so its refund books nothing.
    let creditNote: string | null = null;
    if (await bookedPayment(tx, orderId)) {
      const record = (await ordersRepository(tx).byId(orderId))!;
      const booked = await bookRefund(tx, ctx, record, { reason: request.reason, at: now });
      creditNote = booked.creditNote.number;
    }
    await tx.query(`UPDATE orders SET status = 'refunded', refunded_at = $2 WHERE id = $1`, [
      orderId,
      now,
    ]);
    await recordAdminAction(
      tx,
      {
        actor: request.actor,
        action: 'order.refunded',
        target: orderId,
        detail: {
          amount,
          currency: order.currency,
          provider: order.provider,
          reason: request.reason,
          licenseId: order.license_id,
          revokeLicense: request.revokeLicense && order.license_id !== null,
          creditNote,
        },
      },
      now,
    );
    return {
      orderId,
      amount,
      currency: order.currency,
      provider: order.provider,
      licenseId: order.license_id,
    };
  });
  let licenseRevoked = false;
  if (request.revokeLicense && refunded.licenseId !== null) {
    await revokeWithAudit(ctx, refunded.licenseId, {
      reason: request.reason || `order ${orderId} refunded`,
      actor: request.actor,
      orderId,
    });
    licenseRevoked = true;
  }
  ctx.log.info(
    {
      order: orderId,
      amount: refunded.amount,
      currency: refunded.currency,
      license: refunded.licenseId,
      licenseRevoked,
      actor: request.actor,
    },
    'order refunded',
  );
  return { ...refunded, licenseRevoked };
}

/**
 * Revokes a license (services/revocations.ts) and writes the audit entry. The entry is
 * written after the revocation commits: revoking is idempotent, so a retry after a failed
 * entry revokes nothing twice and writes the entry then.
 * @throws StoreError NOT_FOUND for an unknown license
 */
export async function revokeWithAudit(
  ctx: RefundContext,
  licenseId: string,
  request: { reason: string; actor: string; orderId?: string },
): Promise<{ created: boolean }> {
  const now = ctx.clock.now();
  // Checked first: the revocation list would otherwise name an id no license has.
  const known = await ctx.db.query('SELECT 1 FROM licenses WHERE id = $1', [licenseId]);
  if (known.length === 0) throw new StoreError('NOT_FOUND', 'No such license.');
  const { found, created } = await revokeLicense(
    ctx.db,
    ctx.revocations,
    licenseId,
    request.reason,
    now,
  );
  if (!found) throw new StoreError('NOT_FOUND', 'No such license.');
  await recordAdminAction(
    ctx.db,
    {
      actor: request.actor,
      action: 'license.revoked',
      target: licenseId,
      detail: { reason: request.reason, ...(request.orderId && { orderId: request.orderId }) },
    },
    now,
  );
  ctx.log.info({ license: licenseId, actor: request.actor }, 'license revoked');
  return { created };
}
