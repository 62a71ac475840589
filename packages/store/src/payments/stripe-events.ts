import type Stripe from 'stripe';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { bookedPayment } from '../marketplace/ledger.js';
import type { OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import { recordAdminAction } from '../services/admin-actions.js';
import { settleOrder } from '../services/checkout.js';
import type { StoreContext } from '../services/context.js';
import type { OrderView } from '../services/licensing.js';
import { orderView } from '../services/licensing.js';
import { refundOrder } from '../services/order-refunds.js';
import type { RevocationsService } from '../services/revocations.js';
import type { LatePaymentReturn, StripeProvider } from './stripe.js';
import type { SavedStripeCard } from './stripe-off-session.js';
import { saveStripeCard } from './stripe-off-session.js';

/**
 * What the store does with a verified Stripe event. Each event id is applied once: it is
 * recorded (payment_webhook_events, provider `stripe`) in the transaction that applies it,
 * so a redelivery is acknowledged as a duplicate, and an event that fails is not recorded
 * and Stripe delivers it again.
 *
 * - `checkout.session.completed` (payment_status `paid`) and
 *   `checkout.session.async_payment_succeeded`: the order is paid through the same
 *   `settleOrder` the generic webhooks use (license activated, ledger, invoice), and its
 *   reference becomes the session's PaymentIntent. Amount and currency must be the order's.
 * - `checkout.session.expired` and `checkout.session.async_payment_failed`: a pending order
 *   fails. `payment_intent.payment_failed` does not: the customer may still pay on the same
 *   Checkout page with another card, and the session's own end says when they gave up.
 * - With a paid session the card the customer agreed to save (`setup_future_usage`) is
 *   kept as Stripe ids (customer, PaymentMethod, read from the session's PaymentIntent)
 *   for off-session charges (payments/stripe-off-session.ts).
 * - `payment_intent.succeeded` / `payment_intent.payment_failed` of an off-session
 *   order (renewal, upgrade, seats): paid or failed through `settleOrder` (the renewal
 *   extends the period; a failure goes the store's failed-payment way). A Checkout
 *   purchase's own PaymentIntent is left to the session events above.
 * - `refund.created` and `charge.refunded`: each Stripe refund is booked once through
 *   services/order-refunds.ts, keyed by its `re_…` id; a refund the store sent itself
 *   carries the store's refund id in its metadata and is not booked twice.
 *   `charge.refunded` names no refund since API version 2022-11-15, so its refunds are
 *   listed from Stripe.
 * - `charge.dispute.created`: a chargeback of the disputed amount (at most what is left).
 * - A payment (a paid session, or `payment_intent.succeeded` of an off-session order) of an
 *   order the store no longer honours, `cancelled` or `failed`: refunded whole at Stripe and
 *   recorded, not booked (`returnLatePayment`). Refusing it would leave the customer
 *   charged once Stripe stops retrying, with nothing recorded here.
 * - A refund or dispute that arrives before its payment's event (Stripe delivers in no set
 *   order) is refused with 409 while its PaymentIntent names a pending order here, so
 *   Stripe delivers it again once the payment is booked (`refuseBeforePayment`).
 * - Anything else, or a session this store did not create: acknowledged, `ignored`.
 */

export interface StripeEventOutcome {
  duplicate: boolean;
  ignored: boolean;
  order?: OrderView;
  /** A payment of an order no longer honoured, given back at Stripe (logged with the event). */
  latePayment?: LatePaymentReturn['status'];
}

export type StripeEventContext = StoreContext & { db: Db; revocations: RevocationsService };

const PROVIDER = 'stripe';
const ACTOR = 'stripe';

/** @throws StoreError ORDER_NOT_FOUND, CONFLICT, PAYMENT_PROVIDER_UNAVAILABLE */
export async function applyStripeEvent(
  ctx: StripeEventContext,
  provider: StripeProvider,
  event: Stripe.Event,
): Promise<StripeEventOutcome> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const session = event.data.object;
      const late =
        session.payment_status === 'paid'
          ? await unhonouredOrder(ctx.db, session.metadata?.order_id)
          : undefined;
      if (late) return returnLatePayment(ctx, provider, event, late, idOf(session.payment_intent));
      return settleSession(ctx, event, session, 'paid', await cardOf(provider, event));
    }
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const late = await unhonouredOrder(ctx.db, intent.metadata?.order_id);
      // The PaymentIntent of an order paid on Checkout is left to its session's events.
      if (late && !paidOnCheckout(late)) {
        return returnLatePayment(ctx, provider, event, late, intent.id);
      }
      return settleIntent(ctx, event, intent, 'paid');
    }
    case 'payment_intent.payment_failed':
      return settleIntent(ctx, event, event.data.object, 'failed');
    case 'checkout.session.expired':
    case 'checkout.session.async_payment_failed':
      return settleSession(ctx, event, event.data.object, 'failed');
    case 'refund.created':
      return bookStripeRefund(ctx, provider, event, event.data.object, event.id);
    case 'charge.refunded':
      return bookChargeRefunds(ctx, provider, event, event.data.object);
    case 'charge.dispute.created':
      return bookDispute(ctx, provider, event, event.data.object);
    default:
      return acknowledge(ctx, event);
  }
}

/** Whether the event id was recorded (applied) before. */
async function eventRecorded(db: Queryable, event: Stripe.Event): Promise<boolean> {
  const seen = await db.query(
    'SELECT 1 FROM payment_webhook_events WHERE provider = $1 AND id = $2',
    [PROVIDER, event.id],
  );
  return seen.length > 0;
}

/** Records the event id; false when it was recorded before (a redelivery). */
async function recordEvent(
  tx: Queryable,
  ctx: StoreContext,
  event: Stripe.Event,
): Promise<boolean> {
  const fresh = await tx.query(
    `INSERT INTO payment_webhook_events (provider, id, type, received_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (provider, id) DO NOTHING RETURNING id`,
    [PROVIDER, event.id.slice(0, 255), event.type.slice(0, 100), ctx.clock.now()],
  );
  return fresh.length > 0;
}

async function acknowledge(ctx: StoreContext, event: Stripe.Event): Promise<StripeEventOutcome> {
  const fresh = await ctx.db.transaction((tx) => recordEvent(tx, ctx, event));
  return { duplicate: !fresh, ignored: fresh };
}

async function settleSession(
  ctx: StripeEventContext,
  event: Stripe.Event,
  session: Stripe.Checkout.Session,
  outcome: 'paid' | 'failed',
  card?: SavedStripeCard,
): Promise<StripeEventOutcome> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    if (!(await recordEvent(tx, ctx, event))) return { duplicate: true, ignored: false };
    // Every session the store opens names its order in the metadata; one without it was
    // opened by something else on the same Stripe account (a payment link, another app).
    const orderId = session.metadata?.order_id;
    if (!orderId) return { duplicate: false, ignored: true };
    const orders = ordersRepository(tx);
    const order = await orders.byId(orderId);
    if (!order || order.provider !== PROVIDER) throw new StoreError('ORDER_NOT_FOUND');
    if (outcome === 'failed') {
      // An expired session of an order paid (or failed) otherwise changes nothing.
      if (order.status !== 'pending')
        return { duplicate: false, ignored: true, order: orderView(order) };
      const settled = await settleOrder(tx, ctx, order.id, 'failed', now);
      return { duplicate: false, ignored: false, order: settled.order };
    }
    // `unpaid` while a delayed method (a bank debit) settles: async_payment_succeeded follows.
    if (session.payment_status !== 'paid') return { duplicate: false, ignored: true };
    assertSameMoney(order, session.amount_total, session.currency);
    const settled = await settleOrder(tx, ctx, order.id, 'paid', now);
    const paymentIntent = idOf(session.payment_intent);
    if (paymentIntent) {
      // Both locks are held now (settleOrder takes the license's, then the order's).
      await tx.query(`UPDATE orders SET provider_ref = $2 WHERE id = $1 AND provider = $3`, [
        order.id,
        paymentIntent,
        PROVIDER,
      ]);
    }
    if (card) await saveStripeCard(tx, order.customerId, card, order.id, now);
    return { duplicate: false, ignored: false, order: settled.order };
  });
}

/**
 * The card a paid session saved for later: its PaymentIntent names the Customer and the
 * PaymentMethod (the session names only the Customer). Read before the transaction (it
 * waits on Stripe); nothing when the session saved no card.
 * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE (Stripe delivers the event again)
 */
async function cardOf(
  provider: StripeProvider,
  event: Stripe.CheckoutSessionCompletedEvent | Stripe.CheckoutSessionAsyncPaymentSucceededEvent,
): Promise<SavedStripeCard | undefined> {
  const session = event.data.object;
  const paymentIntent = idOf(session.payment_intent);
  if (!session.metadata?.order_id || session.payment_status !== 'paid' || !paymentIntent) {
    return undefined;
  }
  if (!idOf(session.customer)) return undefined;
  const intent = await provider.paymentIntent(paymentIntent);
  const stripeCustomer = idOf(intent.customer);
  const paymentMethod = idOf(intent.payment_method);
  if (intent.setup_future_usage !== 'off_session' || !stripeCustomer || !paymentMethod) {
    return undefined;
  }
  return { stripeCustomer, paymentMethod };
}

async function settleIntent(
  ctx: StripeEventContext,
  event: Stripe.Event,
  intent: Stripe.PaymentIntent,
  outcome: 'paid' | 'failed',
): Promise<StripeEventOutcome> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    if (!(await recordEvent(tx, ctx, event))) return { duplicate: true, ignored: false };
    const orderId = intent.metadata?.order_id;
    if (!orderId) return { duplicate: false, ignored: true };
    const order = await ordersRepository(tx).byId(orderId);
    if (!order || order.provider !== PROVIDER) throw new StoreError('ORDER_NOT_FOUND');
    // An order paid on Checkout (a purchase, an overdue renewal paid from the portal): the
    // session's events settle it, and a declined card there may still be followed by
    // another that pays.
    if (paidOnCheckout(order)) {
      return { duplicate: false, ignored: true, order: orderView(order) };
    }
    if (outcome === 'failed') {
      if (order.status !== 'pending') {
        return { duplicate: false, ignored: true, order: orderView(order) };
      }
      ctx.log.warn(
        { order: order.id, code: intent.last_payment_error?.code },
        'Stripe reports the off-session charge failed',
      );
    } else {
      assertSameMoney(order, intent.amount_received || intent.amount, intent.currency);
    }
    const settled = await settleOrder(tx, ctx, order.id, outcome, now);
    await tx.query(`UPDATE orders SET provider_ref = $2 WHERE id = $1 AND provider = $3`, [
      order.id,
      intent.id,
      PROVIDER,
    ]);
    return { duplicate: false, ignored: !settled.changed, order: settled.order };
  });
}

/** A purchase, or an overdue renewal paid again from the portal: paid on a Checkout page. */
function paidOnCheckout(order: OrderRecord): boolean {
  return order.kind === 'purchase' || order.details.paymentPage === true;
}

/**
 * The order of a payment report when the store no longer honours it: a Stripe order
 * `cancelled` (a past-due license cancelled while the billing job was sending its charge)
 * or `failed` (a Checkout session paid after its order failed and was replaced). Both are
 * final (settleOrder changes only a pending order), so this read needs no lock: an order
 * read pending here and cancelled before it is settled is refused by settleOrder (409),
 * and Stripe's redelivery finds it cancelled.
 */
async function unhonouredOrder(
  db: Queryable,
  orderId: string | undefined,
): Promise<OrderRecord | undefined> {
  const order = orderId ? await ordersRepository(db).byId(orderId) : undefined;
  return order?.provider === PROVIDER && isUnhonoured(order) ? order : undefined;
}

function isUnhonoured(order: OrderRecord): boolean {
  return order.status === 'cancelled' || order.status === 'failed';
}

/**
 * Gives back a payment Stripe took for an order the store no longer honours, and records
 * the event. The refund is asked of Stripe first, outside any transaction (it waits on the
 * network), under an idempotency key derived from the PaymentIntent: if Stripe cannot be
 * reached nothing is recorded and the answer is 502, so Stripe delivers the event again and
 * the redelivery asks for the same refund, which Stripe makes once. A payment refunded in
 * full already (by the operator, or by an earlier delivery once Stripe forgot the key)
 * counts as returned.
 *
 * Not booked: the order was never paid here, so it has no ledger lines, invoice or refunds
 * row. A ledger refund would reverse revenue never recorded and unbalance the vendor's
 * account, and an `order.refunded` webhook would tell integrations to reverse a sale they
 * never saw. The operator sees it on the order's activity (admin_actions, actor `stripe`)
 * and in the log; Stripe's own report of the refund is acknowledged (`bookStripeRefund`).
 * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE; CONFLICT for a report naming no
 *   PaymentIntent (there is nothing to refund: the operator looks at it in Stripe)
 */
async function returnLatePayment(
  ctx: StripeEventContext,
  provider: StripeProvider,
  event: Stripe.Event,
  order: OrderRecord,
  paymentIntent: string | undefined,
): Promise<StripeEventOutcome> {
  if (await eventRecorded(ctx.db, event)) return { duplicate: true, ignored: false };
  if (!paymentIntent) {
    throw new StoreError(
      'CONFLICT',
      `Stripe reports a payment of order ${order.id}, which is ${order.status}, naming no PaymentIntent to refund.`,
    );
  }
  const returned = await provider.returnLatePayment(paymentIntent, order.id);
  const refund = returned.status === 'refunded' ? returned.refund : undefined;
  ctx.log.warn(
    {
      order: order.id,
      orderStatus: order.status,
      paymentIntent,
      stripeRefund: refund?.id ?? null,
      stripeEvent: event.id,
    },
    returned.status === 'refunded'
      ? 'Stripe reported a payment of an order the store no longer honours: refunded at Stripe'
      : 'Stripe reported a payment of an order the store no longer honours: already refunded at Stripe',
  );
  const now = ctx.clock.now();
  const fresh = await ctx.db.transaction(async (tx) => {
    if (!(await recordEvent(tx, ctx, event))) return false;
    await recordAdminAction(
      tx,
      {
        actor: ACTOR,
        action: 'order.refunded',
        target: order.id,
        detail: {
          ...(refund && { amount: refund.amount }),
          currency: order.currency,
          provider: PROVIDER,
          reason: `Stripe reported a payment of this ${order.status} order; ${refund ? 'refunded' : 'already refunded'} at Stripe, not booked`,
          licenseId: order.licenseId,
          paymentIntent,
          stripeRefund: refund?.id ?? null,
          processorEvent: event.id,
        },
      },
      now,
    );
    return true;
  });
  return {
    duplicate: !fresh,
    ignored: false,
    order: orderView(order),
    ...(fresh && { latePayment: returned.status }),
  };
}

/** Never settle an order for another sum than its own. */
function assertSameMoney(order: OrderRecord, amount: number | null, currency: string | null): void {
  if (amount !== order.amount || currency?.toLowerCase() !== order.currency.toLowerCase()) {
    throw new StoreError(
      'CONFLICT',
      `Stripe reports ${amount ?? '?'} ${currency ?? '?'} for an order of ${order.amount} ${order.currency}.`,
    );
  }
}

function idOf(value: string | { id: string } | null | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return value?.id;
}

/** The order a PaymentIntent paid (its reference since checkout.session.completed). */
async function orderOfPayment(
  db: Queryable,
  paymentIntent: string | undefined,
): Promise<OrderRecord | undefined> {
  if (!paymentIntent) return undefined;
  return ordersRepository(db).byProviderRef(PROVIDER, paymentIntent);
}

/**
 * Refuses (409) a refund or dispute of a PaymentIntent no order has as reference yet when
 * the PaymentIntent names a pending order of this store (every one its sessions and
 * off-session charges create carries `metadata.order_id`). Stripe does not deliver events
 * in order and retries a failed delivery for days, so a refund or a dispute can arrive
 * before the payment's own event; acknowledged then, it would be lost, and the payment
 * event would activate a license on money given back. Refused, Stripe delivers it again
 * after the payment is booked. A PaymentIntent of no order here (another app on the
 * account) returns normally: that report is not the store's to book.
 * @throws StoreError CONFLICT; PAYMENT_PROVIDER_UNAVAILABLE (Stripe delivers it again)
 */
async function refuseBeforePayment(
  db: Queryable,
  provider: StripeProvider,
  paymentIntent: string | undefined,
): Promise<void> {
  if (!paymentIntent) return;
  const orderId = (await provider.paymentIntent(paymentIntent)).metadata?.order_id;
  const order = orderId ? await ordersRepository(db).byId(orderId) : undefined;
  if (order?.provider === PROVIDER && order.status === 'pending') {
    throw new StoreError(
      'CONFLICT',
      `Stripe reports a refund or dispute of order ${order.id}, whose payment is not recorded yet; it is booked when Stripe delivers it again.`,
    );
  }
}

async function bookStripeRefund(
  ctx: StripeEventContext,
  provider: StripeProvider,
  event: Stripe.Event,
  refund: Stripe.Refund,
  eventId: string,
): Promise<StripeEventOutcome> {
  const order = await orderOfPayment(ctx.db, idOf(refund.payment_intent));
  const returned = refund.status === 'succeeded' || refund.status === 'pending';
  if (!order && returned) await refuseBeforePayment(ctx.db, provider, idOf(refund.payment_intent));
  // A failed or cancelled refund returned nothing; a payment this store did not take
  // (another app on the account) is not its to book, nor one of an order it never booked
  // paid (cancelled or failed: `returnLatePayment` gave it back).
  if (!order || !returned || isUnhonoured(order)) {
    return acknowledgeOnce(ctx, event, eventId, order);
  }
  // The store's own refund (services/order-refunds.ts sent it with its id as metadata).
  const own = refund.metadata?.refund_id;
  if (own) {
    const known = await ctx.db.query('SELECT 1 FROM refunds WHERE id = $1 AND order_id = $2', [
      own,
      order.id,
    ]);
    if (known.length > 0) return acknowledgeOnce(ctx, event, eventId, order);
  }
  if (refund.currency.toLowerCase() !== order.currency.toLowerCase()) {
    throw new StoreError('CONFLICT', 'The Stripe refund is in another currency than its order.');
  }
  return bookThroughRefunds(ctx, event, eventId, order, {
    amount: refund.amount,
    kind: 'refund',
    reason: `Stripe refund ${refund.id}${refund.reason ? ` (${refund.reason})` : ''}`,
    refundRef: refund.id,
  });
}

async function bookChargeRefunds(
  ctx: StripeEventContext,
  provider: StripeProvider,
  event: Stripe.Event,
  charge: Stripe.Charge,
): Promise<StripeEventOutcome> {
  if (await eventRecorded(ctx.db, event)) return { duplicate: true, ignored: false };
  const order = await orderOfPayment(ctx.db, idOf(charge.payment_intent));
  if (!order) {
    await refuseBeforePayment(ctx.db, provider, idOf(charge.payment_intent));
    return acknowledge(ctx, event);
  }
  // Outside any transaction: the listing waits on Stripe. Each refund is then booked
  // under the order's lock, once per refund id, whichever event reports it first.
  const refunds = await provider.refundsOfCharge(charge.id);
  for (const refund of refunds) {
    await bookStripeRefund(ctx, provider, event, refund, `${event.id}:${refund.id}`);
  }
  await ctx.db.transaction((tx) => recordEvent(tx, ctx, event));
  const current = await ordersRepository(ctx.db).byId(order.id);
  return { duplicate: false, ignored: false, ...(current && { order: orderView(current) }) };
}

async function bookDispute(
  ctx: StripeEventContext,
  provider: StripeProvider,
  event: Stripe.Event,
  dispute: Stripe.Dispute,
): Promise<StripeEventOutcome> {
  const order = await orderOfPayment(ctx.db, idOf(dispute.payment_intent));
  if (!order) {
    await refuseBeforePayment(ctx.db, provider, idOf(dispute.payment_intent));
    return acknowledge(ctx, event);
  }
  if (dispute.currency.toLowerCase() !== order.currency.toLowerCase()) {
    throw new StoreError('CONFLICT', 'The Stripe dispute is in another currency than its order.');
  }
  // What is left after refunds: a dispute of an order refunded in part takes the rest.
  // Read without the lock: if a refund is booked meanwhile, the booking refuses
  // (REFUND_TOO_LARGE), nothing is recorded, and Stripe's redelivery reads again.
  const payment = await bookedPayment(ctx.db, order.id);
  const left = payment ? payment.paid - payment.refundedBefore : 0;
  const amount = Math.min(dispute.amount, left);
  if (amount <= 0) return acknowledgeOnce(ctx, event, event.id, order);
  return bookThroughRefunds(ctx, event, event.id, order, {
    amount,
    kind: 'chargeback',
    reason: `Stripe dispute ${dispute.id} (${dispute.reason})`,
    refundRef: dispute.id,
  });
}

/** Records a processor event id that leaves the books as they are. */
async function acknowledgeOnce(
  ctx: StripeEventContext,
  event: Stripe.Event,
  eventId: string,
  order: OrderRecord | undefined,
): Promise<StripeEventOutcome> {
  const outcome =
    eventId === event.id ? await acknowledge(ctx, event) : { duplicate: false, ignored: true };
  return { ...outcome, ...(order && { order: orderView(order) }) };
}

async function bookThroughRefunds(
  ctx: StripeEventContext,
  event: Stripe.Event,
  eventId: string,
  order: OrderRecord,
  booking: { amount: number; kind: 'refund' | 'chargeback'; reason: string; refundRef: string },
): Promise<StripeEventOutcome> {
  const outcome = await refundOrder(ctx, order.id, {
    amount: booking.amount,
    kind: booking.kind,
    reason: booking.reason,
    revokeLicense: false,
    actor: ACTOR,
    processorEvent: { provider: PROVIDER, eventId, type: event.type, refundRef: booking.refundRef },
  });
  const current = await ordersRepository(ctx.db).byId(order.id);
  return {
    duplicate: outcome.duplicate,
    ignored: false,
    ...(current && { order: orderView(current) }),
  };
}
