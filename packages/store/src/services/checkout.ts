import type { TokenFormat } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { IdempotentResult } from '../lib/idempotency.js';
import { idempotent } from '../lib/idempotency.js';
import { newId, newLicenseKey, normaliseLicenseKey } from '../lib/ids.js';
import { LICENSE_KEY_DOMAIN } from '../lib/license-auth.js';
import { bookPaidOrder } from '../marketplace/bookkeeping.js';
import { paymentProvider } from '../payments/provider.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import type { LicenseRecord, LicenseStatus } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import type { Plan } from '../schemas/catalogue.js';
import { recordAdminAction } from './admin-actions.js';
import { applyRenewalPayment } from './billing.js';
import type { BillingCycle } from './billing-cycles.js';
import { planOnCycle } from './billing-cycles.js';
import type { StoreContext } from './context.js';
import { findOrCreateCustomer } from './customers.js';
import { emitEvent } from './events.js';
import { withPaymentPage } from './hosted-checkout.js';
import type { OrderView } from './licensing.js';
import {
  isUsable,
  licenseEventData,
  orderView,
  periodEndFor,
  planTotal,
  seatsOn,
} from './licensing.js';
import { queueReceipt } from './mail-receipt.js';
import { emitPaymentFailed, placeOrder } from './orders.js';
import { recordPaymentWebhook } from './payment-webhook-events.js';
import { applyPlanOrder } from './plan-changes.js';
import { issueLicenseToken } from './tokens.js';

/**
 * Checkout: customer, order, license, license key and first token, in one transaction
 * under an Idempotency-Key (lib/idempotency.ts). The license key is generated here,
 * returned in this response only, and stored only as a keyed hash and a 4-character hint.
 */

export interface CheckoutInput {
  productId: string;
  planId: string;
  email: string;
  seats?: number | undefined;
  /** `test` (default), `manual`, or a configured webhook provider. */
  provider?: string | undefined;
  trial?: boolean | undefined;
  format?: TokenFormat | undefined;
  /** For a plan offered monthly and yearly: the cycle bought (default the plan's own). */
  billingCycle?: BillingCycle | undefined;
}

export interface CheckoutResult {
  order: OrderView;
  license: {
    id: string;
    /** Shown once: never returned by any other response. */
    key: string;
    status: LicenseStatus;
    test: boolean;
    /** The first token, when the license is paid or trialing. */
    token?: string;
  };
  /** True for test-provider purchases: no money moved. */
  test: boolean;
  /** Where the customer pays, for a processor with its own payment page (Stripe). */
  checkoutUrl?: string;
}

const DAY_MS = 86_400_000;

/**
 * Runs a checkout once per Idempotency-Key: a repeat of the same request gets the same
 * response (status and body), a different request under the same key 409. For a
 * processor with its own payment page the answer also carries `checkoutUrl`.
 */
export async function checkout(
  ctx: StoreContext,
  input: CheckoutInput,
  idempotencyKey: string | undefined,
): Promise<IdempotentResult<CheckoutResult>> {
  const now = ctx.clock.now();
  const result = await idempotent(
    ctx.db,
    ctx.secrets,
    { scope: 'checkout', key: idempotencyKey, request: input, now },
    async (tx) => ({ statusCode: 201, body: await checkoutIn(tx, ctx, input, now) }),
  );
  // After the commit: a processor's payment page (services/hosted-checkout.ts).
  return withPaymentPage(ctx, paymentProvider(ctx.config, input.provider ?? 'test'), result);
}

async function checkoutIn(
  tx: Queryable,
  ctx: StoreContext,
  input: CheckoutInput,
  now: Date,
): Promise<CheckoutResult> {
  const product = await catalogueRepository(tx, ctx.config.publicUrl).getProduct(input.productId);
  if (!product) throw new StoreError('PRODUCT_NOT_FOUND');
  const requested = product.plans.find((candidate) => candidate.id === input.planId);
  if (!requested) throw new StoreError('PLAN_NOT_FOUND');
  // The license is on the plan of the chosen cycle: its price, period and renewals follow.
  const plan = planOnCycle(requested, product.plans, input.billingCycle);
  if (input.seats !== undefined && !plan.perSeat && input.seats !== plan.seats) {
    throw new StoreError('BAD_REQUEST', 'Seats can be chosen only on a per-seat plan.');
  }
  const provider = paymentProvider(ctx.config, input.provider ?? 'test');
  if (!provider && (input.provider ?? 'test') === 'test') {
    throw new StoreError(
      'BAD_REQUEST',
      'Test payments are off on this store: name the payment provider (`provider`).',
    );
  }
  if (!provider) throw new StoreError('BAD_REQUEST', 'No such payment provider.');
  const trial = input.trial === true;
  if (trial && plan.trialDays === 0) {
    throw new StoreError('BAD_REQUEST', 'This plan has no trial.');
  }
  const seats = seatsOn(plan, input.seats);
  const customer = await findOrCreateCustomer(tx, input.email, now);
  const orders = ordersRepository(tx);
  if (trial && (await orders.hasTrial(customer.id, product.id))) {
    throw new StoreError('TRIAL_USED');
  }

  const key = newLicenseKey();
  const normalised = normaliseLicenseKey(key);
  const licenses = licensesRepository(tx);
  const trialEnd = trial ? new Date(now.getTime() + plan.trialDays * DAY_MS) : null;
  const licenseId = newId('lic');
  await licenses.insert({
    id: licenseId,
    customerId: customer.id,
    productId: product.id,
    planId: plan.id,
    keyHash: ctx.secrets.keyedHash(LICENSE_KEY_DOMAIN, normalised),
    keyHint: normalised.replace(/-/g, '').slice(-4),
    status: trial ? 'trialing' : 'pending',
    seats,
    anchor: now,
    periodStart: now,
    periodEnd: trialEnd,
    trialEnd,
    test: provider.test,
    createdAt: now,
  });
  const order = await placeOrder(tx, ctx, {
    license: { id: licenseId, customerId: customer.id, productId: product.id },
    plan,
    kind: trial ? 'trial' : 'purchase',
    seats,
    amount: trial ? 0 : planTotal(plan, seats),
    provider,
    now,
  });
  if (order.status === 'failed') {
    // Nothing is kept of a checkout whose payment failed at once.
    throw new StoreError('PAYMENT_REQUIRED', 'The payment failed.');
  }
  let license = (await licenses.byId(licenseId))!;
  if (!trial && order.status === 'paid') license = await activatePurchase(tx, plan, license, now);
  if (isUsable(license.status)) {
    await emitEvent(tx, 'license.created', licenseEventData(license, { orderId: order.id }), now);
  }
  await queueReceipt(
    tx,
    ctx.secrets,
    { customerId: customer.id, licenseId: license.id, orderId: order.id, key },
    now,
  );
  const result: CheckoutResult = {
    order: orderView(order),
    license: { id: license.id, key, status: license.status, test: license.test },
    test: license.test,
  };
  if (isUsable(license.status)) {
    result.license.token = (
      await issueLicenseToken(tx, ctx, license.id, { format: input.format, now })
    ).token;
  }
  return result;
}

/** A paid purchase starts the license's first period (and its billing anchor) now. */
async function activatePurchase(
  tx: Queryable,
  plan: Plan,
  license: LicenseRecord,
  paidAt: Date,
): Promise<LicenseRecord> {
  return licensesRepository(tx).update(
    license.id,
    {
      status: 'active',
      anchor: paidAt,
      periodStart: paidAt,
      periodEnd: periodEndFor(plan, paidAt, paidAt),
    },
    paidAt,
  );
}

export interface SettledOrder {
  order: OrderView;
  license: { id: string; status: LicenseStatus; test: boolean } | null;
  /** False when the order was already in the requested state (a repeat). */
  changed: boolean;
}

/**
 * Marks a pending order paid and applies what it pays for: a purchase activates its
 * license (license.created), a renewal ends past-due (license.renewed), an upgrade or seat
 * change takes effect (license.plan_changed). Marking a paid order paid again changes
 * nothing. Called by the admin API (manual provider) and by payment webhooks.
 * @throws StoreError ORDER_NOT_FOUND; CONFLICT when the order failed or was cancelled
 */
export async function markOrderPaid(ctx: StoreContext, orderId: string): Promise<SettledOrder> {
  const now = ctx.clock.now();
  return ctx.db.transaction((tx) => settleOrder(tx, ctx, orderId, 'paid', now));
}

/** Marks a pending order failed (a processor said so); its license stays unpaid. */
export async function markOrderFailed(ctx: StoreContext, orderId: string): Promise<SettledOrder> {
  const now = ctx.clock.now();
  return ctx.db.transaction((tx) => settleOrder(tx, ctx, orderId, 'failed', now));
}

/** Settles an order in the caller's transaction (payment webhooks record their id with it). */
export async function settleOrder(
  tx: Queryable,
  ctx: StoreContext,
  orderId: string,
  outcome: 'paid' | 'failed',
  now: Date,
): Promise<SettledOrder> {
  const orders = ordersRepository(tx);
  const unlocked = await orders.byId(orderId);
  if (!unlocked) throw new StoreError('ORDER_NOT_FOUND');
  // Lock order: the license first, then the order (as every license operation does).
  let license = unlocked.licenseId
    ? await licensesRepository(tx).byId(unlocked.licenseId, { forUpdate: true })
    : undefined;
  const order = (await orders.byId(orderId, { forUpdate: true }))!;
  const view = (l: LicenseRecord | undefined) =>
    l ? { id: l.id, status: l.status, test: l.test } : null;
  if (order.status === outcome)
    return { order: orderView(order), license: view(license), changed: false };
  if (order.status !== 'pending') {
    throw new StoreError(
      'CONFLICT',
      `The order is ${order.status}; only a pending order can change.`,
    );
  }
  const settled = await orders.settle(order.id, { status: outcome, at: now });
  if (outcome === 'paid') await bookPaidOrder(tx, ctx, settled);
  if (outcome === 'paid' && license) license = await applyPaidOrder(tx, ctx, settled, license, now);
  if (outcome === 'failed' && license) await emitPaymentFailed(tx, license, settled, now);
  return { order: orderView(settled), license: view(license), changed: true };
}

/**
 * Applies what a paid order pays for to its license (already locked, the order booked):
 * see `markOrderPaid`. Also used for an order placed again in the portal and paid at once
 * (services/owed-payment.ts).
 */
export async function applyPaidOrder(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
  license: LicenseRecord,
  now: Date,
): Promise<LicenseRecord> {
  switch (order.kind) {
    case 'purchase': {
      if (license.status !== 'pending') return license;
      const plan = await catalogueRepository(tx, ctx.config.publicUrl).getPlan(
        license.productId,
        license.planId,
      );
      const activated = await activatePurchase(tx, plan!, license, now);
      await emitEvent(
        tx,
        'license.created',
        licenseEventData(activated, { orderId: order.id }),
        now,
      );
      return activated;
    }
    case 'renewal':
      return applyRenewalPayment(tx, ctx, order, license, now);
    case 'upgrade':
    case 'seats':
      return applyPlanOrder(tx, ctx, order, license, now);
    default:
      return license;
  }
}

export interface PaymentEvent {
  provider: string;
  /** webhook-id: each is processed once. */
  webhookId: string;
  type: string;
  providerRef: string | undefined;
}

export interface PaymentEventOutcome {
  /** The webhook-id was processed before: nothing was done again. */
  duplicate: boolean;
  /** An event type the store does not act on (recorded, acknowledged). */
  ignored: boolean;
  order?: OrderView;
  /**
   * A payment of an order the store no longer honours (cancelled or failed): recorded on
   * the order's admin activity, not booked; the operator refunds it at the processor,
   * which this store cannot ask to.
   */
  latePayment?: 'refund_at_processor';
}

/**
 * Applies a verified payment webhook: `order.paid` / `order.failed` for the order with the
 * provider's reference. The webhook-id is recorded in the same transaction, so a replay
 * is acknowledged without effect, and an event that fails (unknown reference) is not
 * recorded and may be delivered again.
 * @throws StoreError BAD_REQUEST, ORDER_NOT_FOUND, CONFLICT
 */
export async function applyPaymentEvent(
  ctx: StoreContext,
  event: PaymentEvent,
): Promise<PaymentEventOutcome> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const fresh = await recordPaymentWebhook(
      tx,
      { provider: event.provider, id: event.webhookId, type: event.type },
      now,
    );
    if (!fresh) return { duplicate: true, ignored: false };
    if (event.type !== 'order.paid' && event.type !== 'order.failed') {
      return { duplicate: false, ignored: true };
    }
    if (!event.providerRef) {
      throw new StoreError('BAD_REQUEST', 'The event has no data.providerRef.');
    }
    const order = await ordersRepository(tx).byProviderRef(event.provider, event.providerRef);
    if (!order) throw new StoreError('ORDER_NOT_FOUND');
    if (
      event.type === 'order.paid' &&
      (order.status === 'cancelled' || order.status === 'failed')
    ) {
      return recordLatePayment(tx, ctx, event, order, now);
    }
    const settled = await settleOrder(
      tx,
      ctx,
      order.id,
      event.type === 'order.paid' ? 'paid' : 'failed',
      now,
    );
    return { duplicate: false, ignored: false, order: settled.order };
  });
}

/**
 * A processor's payment of an order the store no longer honours. Refusing it (409, as
 * before) had the processor retry until it gave up, and then nothing anywhere said that
 * the customer had paid: the money was lost track of. It is acknowledged now (the
 * webhook-id recorded with it, so a redelivery is a duplicate), not booked (the order
 * stays as it is, nothing is unlocked), and written to the order's admin activity and the
 * log as a payment to give back at the processor; that processor's report of the refund
 * is then acknowledged once too (order-refunds.ts, processorRefund).
 */
async function recordLatePayment(
  tx: Queryable,
  ctx: StoreContext,
  event: PaymentEvent,
  order: OrderRecord,
  now: Date,
): Promise<PaymentEventOutcome> {
  await recordAdminAction(
    tx,
    {
      actor: `processor:${event.provider}`,
      action: 'order.late_payment',
      target: order.id,
      detail: {
        amount: order.amount,
        currency: order.currency,
        provider: event.provider,
        reason: `${event.provider} reports a payment of this ${order.status} order: not booked; refund it at ${event.provider}`,
        licenseId: order.licenseId,
        processorEvent: event.webhookId,
      },
    },
    now,
  );
  ctx.log.warn(
    {
      order: order.id,
      orderStatus: order.status,
      provider: event.provider,
      event: event.webhookId,
    },
    'a processor reported a payment of an order the store no longer honours: refund it at the processor',
  );
  return {
    duplicate: false,
    ignored: false,
    order: orderView(order),
    latePayment: 'refund_at_processor',
  };
}
