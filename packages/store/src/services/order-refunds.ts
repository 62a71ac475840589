import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { idempotent } from '../lib/idempotency.js';
import { bookRefund } from '../marketplace/bookkeeping.js';
import { bookedPayment } from '../marketplace/ledger.js';
import { ordersRepository } from '../repositories/orders.js';
import { recordAdminAction } from './admin-actions.js';
import type { StoreContext } from './context.js';
import { emitEvent } from './events.js';
import { orderView } from './licensing.js';
import { recordPaymentWebhook } from './payment-webhook-events.js';
import {
  type ProviderRefundStatus,
  refundGoesToProvider,
  sendProviderRefund,
} from './refund-provider.js';
import type { RevocationsService } from './revocations.js';
import { revokeLicense } from './revocations.js';

/**
 * Refunds and chargebacks of an order, whole or in part, from the admin API, the admin
 * screen or a payment processor's webhook. One call:
 *
 * 1. In one transaction under the order's row lock (refunds of one order queue there, so
 *    concurrent partial refunds can never add up to more than was paid): the refunds row,
 *    the reversing ledger entry and a credit note (marketplace/bookkeeping.ts), an audit
 *    entry, and the outgoing webhook event `order.refunded` / `order.charged_back`. The
 *    order stays `paid` until its refunds add up to everything paid; then it becomes
 *    `refunded` (refunded_at set).
 * 2. After the commit, for a refund the store started (kind `refund`, not reported by the
 *    processor), the order's provider returns the money (`provider.refund`, when it has
 *    one: a test order moved no money, a manual one is returned by hand). A processor that
 *    refuses leaves the refund booked — the store's books say what the customer is owed —
 *    and the answer says `providerRefund: 'failed'` with the processor's message, so the
 *    operator retries there. A chargeback calls no provider: the processor took the money.
 * 3. When asked, the license the order belongs to is revoked (its own transaction,
 *    services/revocations.ts): a revocation that fails leaves a refunded order whose license
 *    the operator can still revoke — never a revoked license without a refund.
 *
 * An order paid before the ledger existed has no booked payment: it can only be refunded
 * in full, and books nothing but its status.
 *
 * This signature is what processor integrations call (the Stripe provider maps
 * `charge.refunded` and `charge.dispute.created` onto it with `processorEvent`), so it is
 * kept stable: new fields are optional.
 */

export type RefundKind = 'refund' | 'chargeback';

/** A refund or chargeback a processor reported (its webhook): booked once per event. */
export interface ProcessorRefundEvent {
  /** The provider's name (payments/provider.ts), e.g. `stripe`. */
  provider: string;
  /** The processor's event id: a second delivery of it does nothing. */
  eventId: string;
  /** The event type as the processor named it (kept with the event id). */
  type: string;
  /**
   * The processor's id of the refund, when it has one: a refund the store sent itself
   * (`provider.refund` answered this reference) is recognised and not booked twice.
   */
  refundRef?: string | undefined;
  /**
   * The store's own refund id (`ProviderRefundRequest.refundId`), when the processor
   * carries it back (e.g. in the refund's metadata): recognised like `refundRef`, and it
   * also covers a report that arrives before the processor's reference was saved.
   */
  storeRefundId?: string | undefined;
}

export interface RefundRequest {
  /** Minor units; absent = everything not refunded yet. */
  amount?: number | undefined;
  /** `refund` (default) or `chargeback` (the customer's bank took the money back). */
  kind?: RefundKind | undefined;
  reason: string;
  /** Also revoke the license the order belongs to. */
  revokeLicense: boolean;
  /** Who asked (the audit trail's actor). */
  actor: string;
  /** Admin API: the same key and request answer the first refund again (24 hours). */
  idempotencyKey?: string | undefined;
  /** Set when a processor reported the refund: no provider refund is sent back to it. */
  processorEvent?: ProcessorRefundEvent | undefined;
}

export type { ProviderRefundStatus } from './refund-provider.js';

export interface RefundOutcome {
  orderId: string;
  /** Null for an order paid before the ledger (nothing booked) or a duplicate event. */
  refundId: string | null;
  kind: RefundKind;
  /** This refund, minor units (0 for a duplicate that did nothing). */
  amount: number;
  currency: string;
  provider: string;
  /** What the order was paid, and what its refunds add up to now. */
  orderAmount: number;
  refundedTotal: number;
  orderStatus: string;
  creditNote: string | null;
  licenseId: string | null;
  licenseRevoked: boolean;
  providerRefund: ProviderRefundStatus;
  /** The processor's message when providerRefund is `failed`. */
  providerRefundError?: string;
  /** A replay (same Idempotency-Key or processor event): nothing was done again. */
  duplicate: boolean;
}

type RefundContext = StoreContext & { db: Db; revocations: RevocationsService };

/** The booking (step 1) as committed; what an Idempotency-Key replay answers again. */
interface Booked {
  orderId: string;
  refundId: string | null;
  kind: RefundKind;
  amount: number;
  currency: string;
  provider: string;
  providerRef: string | null;
  orderAmount: number;
  refundedTotal: number;
  orderStatus: string;
  creditNote: string | null;
  licenseId: string | null;
  test: boolean;
}

const IDEMPOTENCY_SCOPE = 'admin-refund';

/**
 * Refunds (or books a chargeback of) an order, whole or in part; see the module comment.
 * @throws StoreError ORDER_NOT_FOUND; ORDER_NOT_REFUNDABLE (not paid, nothing charged,
 *   refunded in full); REFUND_TOO_LARGE (more than is left); BAD_REQUEST (an amount that is
 *   not a positive whole number, a part of an order paid before the ledger);
 *   IDEMPOTENCY_CONFLICT; NOT_FOUND when the license to revoke is gone
 */
export async function refundOrder(
  ctx: RefundContext,
  orderId: string,
  request: RefundRequest,
): Promise<RefundOutcome> {
  const now = ctx.clock.now();
  const kind = request.kind ?? 'refund';
  let booked: Booked | undefined;
  let replayed = false;
  // A processor's report is once-only by its event id; an Idempotency-Key is the admin's.
  if (request.idempotencyKey !== undefined && !request.processorEvent) {
    const result = await idempotent<Booked>(
      ctx.db,
      ctx.secrets,
      {
        scope: IDEMPOTENCY_SCOPE,
        key: request.idempotencyKey,
        request: {
          orderId,
          amount: request.amount,
          kind,
          reason: request.reason,
          revokeLicense: request.revokeLicense,
        },
        now,
      },
      async (tx) => ({
        statusCode: 201,
        body: (await bookOrderRefund(tx, ctx, orderId, request, now))!,
      }),
    );
    booked = result.body;
    replayed = result.replayed;
  } else {
    booked = await ctx.db.transaction((tx) => bookOrderRefund(tx, ctx, orderId, request, now));
  }
  if (!booked) return duplicateOutcome(ctx.db, orderId, kind);
  if (replayed) {
    return { ...(await outcomeOf(ctx.db, booked)), licenseRevoked: false, duplicate: true };
  }

  const provider = refundGoesToProvider(
    ctx.config,
    booked.provider,
    booked.kind,
    request.processorEvent !== undefined,
  )
    ? await sendProviderRefund(ctx, booked, request.reason)
    : { status: 'none' as const };
  let licenseRevoked = false;
  if (request.revokeLicense && booked.licenseId !== null) {
    await revokeWithAudit(ctx, booked.licenseId, {
      reason:
        request.reason || `order ${orderId} ${kind === 'chargeback' ? 'charged back' : 'refunded'}`,
      actor: request.actor,
      orderId,
    });
    licenseRevoked = true;
  }
  ctx.log.info(
    {
      order: orderId,
      refund: booked.refundId,
      kind,
      amount: booked.amount,
      refundedTotal: booked.refundedTotal,
      currency: booked.currency,
      license: booked.licenseId,
      licenseRevoked,
      providerRefund: provider.status,
      actor: request.actor,
    },
    kind === 'chargeback' ? 'order charged back' : 'order refunded',
  );
  return {
    ...publicPart(booked),
    licenseRevoked,
    providerRefund: provider.status,
    ...(provider.error !== undefined && { providerRefundError: provider.error }),
    duplicate: false,
  };
}

function publicPart(booked: Booked) {
  const { providerRef: _ref, test: _test, ...rest } = booked;
  return rest;
}

/**
 * Step 1 in the caller's transaction. Undefined when the processor event was seen before
 * or is the report of a refund the store sent itself (nothing to do).
 */
async function bookOrderRefund(
  tx: Queryable,
  ctx: StoreContext,
  orderId: string,
  request: RefundRequest,
  now: Date,
): Promise<Booked | undefined> {
  const kind = request.kind ?? 'refund';
  const event = request.processorEvent;
  if (event) {
    const fresh = await tx.query(
      `INSERT INTO payment_webhook_events (provider, id, type, received_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (provider, id) DO NOTHING RETURNING id`,
      [event.provider, event.eventId, event.type.slice(0, 100), now],
    );
    if (fresh.length === 0) return undefined;
  }
  const locked = await tx.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
  if (locked.length === 0) throw new StoreError('ORDER_NOT_FOUND');
  if (event?.refundRef || event?.storeRefundId) {
    const known = await tx.query(
      'SELECT 1 FROM refunds WHERE order_id = $1 AND (provider_ref = $2 OR id = $3)',
      [orderId, event.refundRef ?? null, event.storeRefundId ?? null],
    );
    if (known.length > 0) return undefined;
  }
  const order = (await ordersRepository(tx).byId(orderId))!;
  if ((order.status as string) === 'refunded')
    throw new StoreError('ORDER_NOT_REFUNDABLE', 'This order is refunded in full already.');
  if (order.status !== 'paid')
    throw new StoreError(
      'ORDER_NOT_REFUNDABLE',
      `Only a paid order can be refunded; this one is ${order.status}.`,
    );
  if (order.amount === 0)
    throw new StoreError(
      'ORDER_NOT_REFUNDABLE',
      'Nothing was charged for this order: there is nothing to refund.',
    );
  if (
    request.amount !== undefined &&
    (!Number.isSafeInteger(request.amount) || request.amount <= 0)
  ) {
    throw new StoreError('BAD_REQUEST', 'A refund is a positive whole number of minor units.');
  }

  const reason = request.reason.slice(0, 500);
  let refundId: string | null = null;
  let amount: number;
  let refundedTotal: number;
  let creditNote: string | null = null;
  const payment = await bookedPayment(tx, orderId);
  if (payment) {
    const left = payment.paid - payment.refundedBefore;
    amount = request.amount ?? left;
    if (amount > left)
      throw new StoreError(
        'REFUND_TOO_LARGE',
        `Only ${left} of ${payment.paid} minor units of this order are left to refund.`,
      );
    const refund = await bookRefund(tx, ctx, order, { amount, kind, reason, at: now });
    refundId = refund.refundId;
    refundedTotal = refund.refundedTotal;
    creditNote = refund.creditNote.number;
    await tx.query(
      `UPDATE refunds SET source = $2, actor = $3, provider_ref = $4,
              provider_status = CASE WHEN $5 THEN 'none' ELSE NULL END
        WHERE id = $1`,
      [
        refundId,
        event ? 'processor' : 'admin',
        request.actor.slice(0, 200),
        event?.refundRef ?? null,
        !refundGoesToProvider(ctx.config, order.provider, kind, event !== undefined),
      ],
    );
  } else {
    // Paid before the ledger: no refunds rows to add up, so only the whole order.
    if (request.amount !== undefined && request.amount !== order.amount)
      throw new StoreError(
        'BAD_REQUEST',
        'This order was paid before the ledger existed: it can only be refunded in full.',
      );
    amount = order.amount;
    refundedTotal = order.amount;
  }

  const full = refundedTotal >= order.amount;
  if (full) {
    await tx.query(`UPDATE orders SET status = 'refunded', refunded_at = $2 WHERE id = $1`, [
      orderId,
      now,
    ]);
  }
  const action = kind === 'chargeback' ? 'order.charged_back' : 'order.refunded';
  await recordAdminAction(
    tx,
    {
      actor: request.actor,
      action,
      target: orderId,
      detail: {
        refundId,
        amount,
        refundedTotal,
        orderAmount: order.amount,
        currency: order.currency,
        provider: order.provider,
        reason,
        licenseId: order.licenseId,
        revokeLicense: request.revokeLicense && order.licenseId !== null,
        creditNote,
        ...(event && { processorEvent: event.eventId }),
      },
    },
    now,
  );
  await emitEvent(
    tx,
    action,
    {
      orderId,
      refundId,
      kind,
      amount,
      currency: order.currency,
      refundedTotal,
      orderAmount: order.amount,
      full,
      reason,
      creditNote,
      productId: order.productId,
      licenseId: order.licenseId,
      customerId: order.customerId,
      test: order.test,
    },
    now,
  );
  return {
    orderId,
    refundId,
    kind,
    amount,
    currency: order.currency,
    provider: order.provider,
    providerRef: order.providerRef,
    orderAmount: order.amount,
    refundedTotal,
    orderStatus: full ? 'refunded' : 'paid',
    creditNote,
    licenseId: order.licenseId,
    test: order.test,
  };
}

/** What a replay answers: the booking as saved, with what the processor did since. */
async function outcomeOf(
  db: Queryable,
  booked: Booked,
): Promise<Omit<RefundOutcome, 'licenseRevoked' | 'duplicate'>> {
  const [row] =
    booked.refundId === null
      ? []
      : await db.query<{
          provider_status: ProviderRefundStatus | null;
          provider_error: string | null;
        }>('SELECT provider_status, provider_error FROM refunds WHERE id = $1', [booked.refundId]);
  return {
    ...publicPart(booked),
    providerRefund: row?.provider_status ?? 'none',
    ...(row?.provider_error ? { providerRefundError: row.provider_error } : {}),
  };
}

/** A processor event seen before: the order as it is, nothing booked. */
async function duplicateOutcome(db: Db, orderId: string, kind: RefundKind): Promise<RefundOutcome> {
  const order = await ordersRepository(db).byId(orderId);
  if (!order) throw new StoreError('ORDER_NOT_FOUND');
  const { refunded } = await refundedSoFar(db, orderId);
  return {
    orderId,
    refundId: null,
    kind,
    amount: 0,
    currency: order.currency,
    provider: order.provider,
    orderAmount: order.amount,
    refundedTotal:
      (order.status as string) === 'refunded' && refunded === 0 ? order.amount : refunded,
    orderStatus: order.status,
    creditNote: null,
    licenseId: order.licenseId,
    licenseRevoked: false,
    providerRefund: 'none',
    duplicate: true,
  };
}

async function refundedSoFar(db: Queryable, orderId: string): Promise<{ refunded: number }> {
  const [row] = await db.query<{ total: string | null }>(
    'SELECT SUM(amount_minor) AS total FROM refunds WHERE order_id = $1',
    [orderId],
  );
  return { refunded: Number(row?.total ?? 0) };
}

/** A refund or chargeback as a processor's generic webhook reports it. */
export interface ProcessorRefundReport {
  provider: string;
  eventId: string;
  type: string;
  kind: RefundKind;
  /** The order's payment reference at the processor (orders.provider_ref). */
  providerRef: string | undefined;
  amount: number | undefined;
  refundRef: string | undefined;
  reason: string | undefined;
}

/**
 * Books a refund or chargeback a processor reported (routes/api/payment-webhooks.ts):
 * the order by its payment reference, the event once by its id. The license stays as it
 * is: revoking is the operator's decision.
 * @throws StoreError BAD_REQUEST (no providerRef), ORDER_NOT_FOUND, and as refundOrder
 */
export async function processorRefund(
  ctx: RefundContext,
  report: ProcessorRefundReport,
): Promise<{
  duplicate: boolean;
  ignored: boolean;
  order: {
    id: string;
    kind: string;
    status: string;
    amount: number;
    currency: string;
    test: boolean;
  };
}> {
  if (!report.providerRef)
    throw new StoreError('BAD_REQUEST', 'The event has no data.providerRef.');
  const order = await ordersRepository(ctx.db).byProviderRef(report.provider, report.providerRef);
  if (!order) throw new StoreError('ORDER_NOT_FOUND');
  const summary = orderView(order);
  // The refund of a payment the store never booked (checkout.ts, recordLatePayment): the
  // operator gave it back at the processor as asked. Acknowledged once, noted, not booked.
  if (order.status === 'cancelled' || order.status === 'failed') {
    const fresh = await acknowledgeUnbookedRefund(ctx, report, order);
    return { duplicate: !fresh, ignored: true, order: summary };
  }
  const outcome = await refundOrder(ctx, order.id, {
    amount: report.amount,
    kind: report.kind,
    reason: report.reason ?? `reported by ${report.provider}`,
    revokeLicense: false,
    actor: `processor:${report.provider}`,
    processorEvent: {
      provider: report.provider,
      eventId: report.eventId,
      type: report.type,
      refundRef: report.refundRef,
    },
  });
  return {
    duplicate: outcome.duplicate,
    ignored: false,
    order: { ...summary, status: outcome.orderStatus },
  };
}

/** Records a processor's refund of an unbooked payment once (by webhook-id); false: a replay. */
async function acknowledgeUnbookedRefund(
  ctx: RefundContext,
  report: ProcessorRefundReport,
  order: { id: string; status: string; currency: string },
): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const fresh = await recordPaymentWebhook(
      tx,
      { provider: report.provider, id: report.eventId, type: report.type },
      now,
    );
    if (!fresh) return false;
    await recordAdminAction(
      tx,
      {
        actor: `processor:${report.provider}`,
        action: report.kind === 'chargeback' ? 'order.charged_back' : 'order.refunded',
        target: order.id,
        detail: {
          ...(report.amount !== undefined && { amount: report.amount, currency: order.currency }),
          provider: report.provider,
          reason: `${report.provider} reports giving back a payment of this ${order.status} order, which was never booked: not booked either`,
          processorEvent: report.eventId,
          ...(report.refundRef !== undefined && { refundRef: report.refundRef }),
        },
      },
      now,
    );
    return true;
  });
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
