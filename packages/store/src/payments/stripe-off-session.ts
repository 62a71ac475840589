import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import { settleOrder } from '../services/checkout.js';
import type { StoreContext } from '../services/context.js';
import { paymentProvider } from './provider.js';
import type { StripeProvider } from './stripe.js';

/**
 * Renewals and plan-change charges of a Stripe license, paid with the card the customer
 * saved at their Stripe Checkout (`setup_future_usage: off_session`), with nobody present.
 *
 * `charge` answers `pending` inside the order's transaction (no network there). After the
 * commit the store sends an off-session PaymentIntent for the order, with the order id as
 * idempotency key; its reference then becomes the `pi_…` id. Stripe's webhooks
 * `payment_intent.succeeded` / `payment_intent.payment_failed` settle the order
 * (payments/stripe-events.ts).
 *
 * An order the customer pays on the Checkout page (`details.paymentPage`: an overdue
 * renewal paid from the portal, services/owed-payment.ts) is never sent here.
 *
 * Outbox-like: a pending Stripe order whose reference is not yet a PaymentIntent is one
 * still to send. The billing job sends every such order on each run, so a crash or a
 * Stripe outage between the commit and the call loses nothing, and the idempotency key
 * keeps a retry from charging twice.
 *
 * A sent PaymentIntent may take the money until Stripe confirms it cancelled: an order is
 * cancelled only after that (`stopChargesInFlight`, a past-due license cancelled).
 */

/** A customer's saved Stripe ids; never card data. */
export interface SavedStripeCard {
  stripeCustomer: string;
  paymentMethod: string;
}

const OFF_SESSION_KINDS = ['renewal', 'upgrade', 'seats'];
const BATCH = 100;

export async function savedStripeCard(
  db: Queryable,
  customerId: string,
): Promise<SavedStripeCard | undefined> {
  const [row] = await db.query<{ stripe_customer: string; payment_method: string }>(
    'SELECT stripe_customer, payment_method FROM stripe_payment_methods WHERE customer_id = $1',
    [customerId],
  );
  return row && { stripeCustomer: row.stripe_customer, paymentMethod: row.payment_method };
}

/** Keeps the card a Checkout payment saved (the latest wins). */
export async function saveStripeCard(
  tx: Queryable,
  customerId: string,
  card: SavedStripeCard,
  orderId: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO stripe_payment_methods (customer_id, stripe_customer, payment_method, order_id, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (customer_id) DO UPDATE SET stripe_customer = EXCLUDED.stripe_customer,
       payment_method = EXCLUDED.payment_method, order_id = EXCLUDED.order_id,
       updated_at = EXCLUDED.updated_at`,
    [customerId, card.stripeCustomer, card.paymentMethod, orderId, now],
  );
}

export type OffSessionResult =
  /** Not a Stripe order still to send, or its customer saved no card (stays pending). */
  'skipped' | 'sent' | 'declined';

/**
 * Sends one order's off-session PaymentIntent, if it still needs one. A card refusal
 * fails the order at once through the store's failed-payment path (the webhook that
 * follows finds it failed already).
 * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE (the order stays pending; retried)
 */
export async function chargeOrderOffSession(
  ctx: StoreContext,
  orderId: string,
): Promise<OffSessionResult> {
  const provider = stripeOf(ctx);
  if (!provider) return 'skipped';
  const order = await ordersRepository(ctx.db).byId(orderId);
  if (
    order?.provider !== 'stripe' ||
    order.status !== 'pending' ||
    !OFF_SESSION_KINDS.includes(order.kind) ||
    order.details.paymentPage === true ||
    order.amount === 0 ||
    order.providerRef?.startsWith('pi_')
  ) {
    return 'skipped';
  }
  const card = await savedStripeCard(ctx.db, order.customerId);
  if (!card) return 'skipped';
  const outcome = await provider.chargeOffSession({
    orderId: order.id,
    amount: order.amount,
    currency: order.currency,
    description: `${order.productId} ${order.planId} (${order.kind})`,
    ...card,
  });
  await ctx.db.transaction(async (tx) => {
    if (outcome.status === 'declined') {
      ctx.log.warn(
        { order: order.id, code: outcome.code },
        'Stripe refused the off-session charge',
      );
      // settleOrder takes the license's lock, then the order's; a webhook may have won.
      const current = await ordersRepository(tx).byId(order.id);
      if (current?.status === 'pending') {
        await settleOrder(tx, ctx, order.id, 'failed', ctx.clock.now());
      }
    }
    const reference = outcome.paymentIntent;
    if (reference) {
      await tx.query(
        `UPDATE orders SET provider_ref = $2 WHERE id = $1 AND provider = 'stripe'
           AND (provider_ref IS NULL OR provider_ref NOT LIKE 'pi\\_%')`,
        [order.id, reference],
      );
    }
  });
  return outcome.status;
}

/**
 * After a commit that may have created an off-session order (a plan change): sends it at
 * once. A failure is logged, not thrown: the order is committed and the billing job
 * sends it again.
 */
export async function chargeAfterCommit(ctx: StoreContext, orderId: string): Promise<void> {
  try {
    await chargeOrderOffSession(ctx, orderId);
  } catch (error) {
    ctx.log.warn(
      { order: orderId, error: (error as Error).message },
      'the off-session charge could not be sent; the billing job retries it',
    );
  }
}

/**
 * The billing job's step: every pending Stripe order with no PaymentIntent yet whose
 * customer saved a card, oldest first.
 */
export async function chargePendingOffSession(
  ctx: StoreContext,
): Promise<{ sent: number; declined: number; failed: number }> {
  const summary = { sent: 0, declined: 0, failed: 0 };
  if (!stripeOf(ctx)) return summary;
  const seen = new Set<string>();
  for (;;) {
    const rows = await ctx.db.query<{ id: string }>(
      `SELECT o.id FROM orders o JOIN stripe_payment_methods m ON m.customer_id = o.customer_id
        WHERE o.provider = 'stripe' AND o.status = 'pending' AND o.kind = ANY($1)
          AND o.amount_minor > 0 AND (o.provider_ref IS NULL OR o.provider_ref NOT LIKE 'pi\\_%')
          AND o.details->>'paymentPage' IS NULL
        ORDER BY o.created_at, o.id LIMIT $2`,
      [OFF_SESSION_KINDS, BATCH + seen.size],
    );
    const fresh = rows.map((row) => row.id).filter((id) => !seen.has(id));
    if (fresh.length === 0) break;
    for (const id of fresh) {
      seen.add(id);
      try {
        const result = await chargeOrderOffSession(ctx, id);
        if (result === 'sent') summary.sent++;
        if (result === 'declined') summary.declined++;
      } catch (error) {
        summary.failed++;
        ctx.log.warn(
          { order: id, error: (error as Error).message },
          'the off-session charge could not be sent; the next run retries it',
        );
      }
    }
  }
  return summary;
}

/** The PaymentIntent already sent for a pending order: Stripe may be taking its money. */
export function chargeInFlight(order: OrderRecord): string | undefined {
  const reference = order.providerRef;
  return order.provider === 'stripe' && order.status === 'pending' && reference?.startsWith('pi_')
    ? reference
    : undefined;
}

/**
 * Stops the off-session charges already sent for orders the store is about to cancel (a
 * past-due license cancelled): each PaymentIntent is cancelled at Stripe, outside any
 * transaction, and the ids Stripe confirmed cancelled are answered. A cancelled order whose
 * PaymentIntent then succeeded would have its payment given back (stripe-events.ts), when
 * the customer meant to pay and keep the license: a renewal they paid is kept instead, and
 * the cancellation waits for it. The caller cancels only orders answered here, under
 * its lock (one sent meanwhile is refused as {@link chargeBeingProcessed}).
 * @throws StoreError CONFLICT when one has succeeded or is processing (its webhook will
 *   pay the order); PAYMENT_PROVIDER_UNAVAILABLE (nothing is cancelled by the caller)
 */
export async function stopChargesInFlight(
  ctx: StoreContext,
  orders: readonly OrderRecord[],
): Promise<Set<string>> {
  const stopped = new Set<string>();
  for (const order of orders) {
    const intent = chargeInFlight(order);
    if (!intent) continue;
    const provider = stripeOf(ctx);
    if (!provider) {
      throw new StoreError(
        'PAYMENT_PROVIDER_UNAVAILABLE',
        'Stripe is not configured, so a charge already sent to it cannot be stopped.',
      );
    }
    if ((await provider.cancelPaymentIntent(intent)) !== 'canceled') throw chargeBeingProcessed();
    stopped.add(intent);
  }
  return stopped;
}

/** A charge Stripe is taking (or took): its order must stay for the webhook that pays it. */
export function chargeBeingProcessed(): StoreError {
  return new StoreError(
    'CONFLICT',
    'A payment for this license is being processed; the license renews when it completes. Cancel after that to end it at the end of the period.',
  );
}

function stripeOf(ctx: StoreContext): StripeProvider | undefined {
  return paymentProvider(ctx.config, 'stripe') as StripeProvider | undefined;
}
