import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { PaymentProvider } from '../payments/provider.js';
import { savedStripeCard } from '../payments/stripe-off-session.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import type { OrderDetails, OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import { paymentPagesRepository } from '../repositories/payment-pages.js';
import { lockCurrentLicense } from './billing.js';
import { applyPaidOrder } from './checkout.js';
import type { StoreContext } from './context.js';
import { openPaymentPage } from './hosted-checkout.js';
import { isRevoked, planOf } from './licensing.js';
import { licenseProvider, placeOrder } from './orders.js';

/**
 * Paying what a license owes, from the portal (`GET /portal/pay`, where a license's 402
 * answers and the failed-payment mail link). Two unpaid licenses have an order the
 * customer can pay again:
 *
 * - A past-due license: a renewal the processor refused (a declined card, a bank asking
 *   the customer to confirm an off-session charge). Paid, the license is active again for
 *   the period the renewal was for (or from now when that period is over:
 *   billing.ts applyRenewalPayment).
 * - A pending license: a purchase whose payment never went through (the customer left
 *   the processor's page unpaid until it expired, a bank debit failed). Its license key is
 *   already with the customer (the checkout's answer, the receipt) and in their app, whose
 *   402 answers link here: paying activates that same license, where buying again in the
 *   storefront would make a second license with a new key. A purchase still on its first
 *   Checkout page is taken back to that very page (kept when it was opened:
 *   hosted-checkout.ts) for as long as that page can be paid ({@link CHECKOUT_PAGE_SECONDS}).
 *
 * Paying again is a new order of the same kind for the same plan, seats and amount
 * (`retryOf` names the one it replaces), through the license's provider. At a processor
 * with a payment page (Stripe Checkout) the order waits there, flagged `paymentPage` so
 * that the billing job never also charges it off-session; paying it there settles it
 * through the processor's webhook, and a second click opens the same order's page again.
 *
 * That page can be paid until an hour after the order was placed
 * ({@link PAY_AGAIN_PAGE_SECONDS}; every session of the order ends then, however late it was
 * opened). Until then, and ten minutes more for the clocks, the license cannot be
 * cancelled (plan-changes.ts), since a cancellation cancels the order the page would still
 * take money for; after it, the order can no longer be paid, so a click places a new one.
 * An order whose page the processor never opened (it was down at every click) is paid
 * anew as soon as no page can be opened for what is left of its hour.
 *
 * An order still pending elsewhere (an off-session charge in flight, an invoice an admin
 * marks paid, a processor that reports by webhook) is left alone: a second order for it
 * could charge the customer twice. The exception is a Stripe renewal nothing will ever
 * send (its customer saved no card): it is failed and replaced by one the customer pays on
 * Checkout.
 */

/** How long the processor's page of an order paid again can be paid (Stripe: ≥ 30 min). */
export const PAY_AGAIN_PAGE_SECONDS = 3600;
/**
 * How long after a purchase the portal takes the customer back to the checkout's own
 * Checkout page: Stripe's default for a session's life, 24 hours from its opening (the
 * checkout opens it once the order is committed). Within it the portal answers the page
 * the checkout opened, never a second one for the same order. After it the store waits
 * for Stripe's report that the page expired (`checkout.session.expired` fails the
 * order), then pays anew; a purchase whose page was never opened is paid anew at once.
 */
export const CHECKOUT_PAGE_SECONDS = 24 * 3600;
/**
 * The least life a processor's page can be opened with: Stripe refuses a session whose
 * `expires_at` is less than 30 minutes after its creation.
 */
const LEAST_PAGE_SECONDS = 30 * 60;
/**
 * How much later than the processor the store holds a page for closed: the store's clock
 * and the processor's may differ, and a page paid in that gap must find its order pending.
 */
const CLOCK_MARGIN_MS = 10 * 60_000;

/**
 * The order of a license being paid again on the processor's page now, if any: a pending
 * `paymentPage` order whose page has not expired at `now` and was opened or still can be.
 */
export async function openPaymentPageOrder(
  db: Queryable,
  pending: readonly OrderRecord[],
  now: Date,
): Promise<OrderRecord | undefined> {
  for (const order of pending) {
    if (order.details.paymentPage !== true || pageClosed(order, now)) continue;
    if (!(await tooLateToOpen(db, order, now))) return order;
  }
  return undefined;
}

/** When the processor's page of a `paymentPage` order stops taking payment. */
function pageExpiry(order: OrderRecord): Date {
  return new Date(order.createdAt.getTime() + PAY_AGAIN_PAGE_SECONDS * 1000);
}

/** Whether the page of a `paymentPage` order can no longer be paid at `now`, margin included. */
function pageClosed(order: OrderRecord, now: Date): boolean {
  return now.getTime() >= pageExpiry(order).getTime() + CLOCK_MARGIN_MS;
}

/**
 * Whether a `paymentPage` order whose page was never opened (the processor was down at
 * each click) can no longer get one: its page must end with the order's hour, and the
 * processor opens none that ends sooner than {@link LEAST_PAGE_SECONDS} away. No customer
 * can pay a session of it then either: one the processor made while its answer was lost
 * (an attempt takes seconds; the margin is ten minutes) has an address no one received.
 */
async function tooLateToOpen(db: Queryable, order: OrderRecord, now: Date): Promise<boolean> {
  const lastOpening = pageExpiry(order).getTime() - LEAST_PAGE_SECONDS * 1000;
  if (now.getTime() < lastOpening + CLOCK_MARGIN_MS) return false;
  return (await paymentPagesRepository(db).urlOf(order.id)) === undefined;
}

/**
 * Whether a pending renewal will never be charged by itself: a Stripe order no
 * PaymentIntent was sent for, whose customer saved no card (bought before cards were
 * saved, or with a method that saved none), which the billing job therefore never sends.
 * The customer pays it on Checkout instead; the order is failed and replaced.
 */
async function unsendable(db: Queryable, order: OrderRecord): Promise<boolean> {
  // A purchase is paid on its Checkout page, never off session: left to that page's end.
  if (order.kind !== 'renewal') return false;
  if (order.provider !== 'stripe' || order.providerRef?.startsWith('pi_')) return false;
  return (await savedStripeCard(db, order.customerId)) === undefined;
}

export type OwedPayment =
  /** Nothing to pay: the license is not past due nor pending, or nothing can be paid again. */
  | { state: 'none' }
  /**
   * The order was refused, its payment page expired unpaid, or it can never be charged by
   * itself (a Stripe renewal whose customer has no saved card): the customer can pay it.
   */
  | { state: 'payable'; order: OrderRecord }
  /** The customer started paying on the processor's page: they can go back to it. */
  | { state: 'started'; order: OrderRecord }
  /** The order is with the processor or an admin: nothing to do but wait. */
  | { state: 'processing'; order: OrderRecord };

/** The kind of order an unpaid license owes: a past-due renewal, a pending purchase. */
function owedKind(license: LicenseRecord): 'renewal' | 'purchase' | undefined {
  if (isRevoked(license)) return undefined;
  if (license.status === 'past_due') return 'renewal';
  if (license.status === 'pending') return 'purchase';
  return undefined;
}

/**
 * A purchase's own order still on the Checkout page the checkout opened (no `paymentPage`
 * flag: it is not one placed again here), which the portal can reopen until `now`.
 */
function onCheckoutPage(order: OrderRecord, now: Date): boolean {
  return (
    order.kind === 'purchase' &&
    order.provider === 'stripe' &&
    !order.details.paymentPage &&
    now.getTime() < order.createdAt.getTime() + CHECKOUT_PAGE_SECONDS * 1000 - CLOCK_MARGIN_MS
  );
}

/**
 * Whether a Stripe purchase past its Checkout page's day never had a page opened (Stripe
 * was down at the checkout and at every later attempt): no Checkout report will ever come
 * to fail it, so it is paid anew rather than left waiting. No one can pay a session of it
 * either: the store hands out a page's address only after keeping it (hosted-checkout.ts),
 * so one Stripe made while its answer was lost has an address no one received.
 */
async function checkoutPageNeverOpened(db: Queryable, order: OrderRecord): Promise<boolean> {
  if (order.kind !== 'purchase' || order.provider !== 'stripe' || order.details.paymentPage) {
    return false;
  }
  return (await paymentPagesRepository(db).urlOf(order.id)) === undefined;
}

/** What `license` owes at `now`, and where its payment stands. */
export async function owedPayment(
  db: Queryable,
  license: LicenseRecord,
  now: Date,
): Promise<OwedPayment> {
  const kind = owedKind(license);
  if (kind === undefined) return { state: 'none' };
  const order = await ordersRepository(db).latestOfKind(license.id, kind);
  if (!order || order.status === 'paid' || order.status === 'cancelled') return { state: 'none' };
  if (order.status === 'failed') return { state: 'payable', order };
  if (order.details.paymentPage) {
    const over = pageClosed(order, now) || (await tooLateToOpen(db, order, now));
    return { state: over ? 'payable' : 'started', order };
  }
  if (onCheckoutPage(order, now)) return { state: 'started', order };
  const never = (await checkoutPageNeverOpened(db, order)) || (await unsendable(db, order));
  return { state: never ? 'payable' : 'processing', order };
}

export type OwedPaymentOutcome =
  /** Paid at once (the test provider): the license is active. */
  | { outcome: 'paid'; order: OrderRecord }
  /** The customer pays on the processor's page at `url`. */
  | { outcome: 'payment_page'; order: OrderRecord; url: string }
  /** Pending with the processor or an admin. */
  | { outcome: 'pending'; order: OrderRecord }
  /** The provider refused it again at once. */
  | { outcome: 'failed'; order: OrderRecord };

/**
 * Pays what a license owes (see above). `returnPath` is the store page the processor's
 * payment page goes back to when the customer leaves it unpaid.
 * @throws StoreError LICENSE_NOT_FOUND, LICENSE_REVOKED; CONFLICT when nothing is owed;
 *   PAYMENT_PROVIDER_UNAVAILABLE when the payment page cannot be opened (the order stays
 *   pending and the same call opens it again)
 */
export async function payOwed(
  ctx: StoreContext,
  licenseId: string,
  options: { returnPath: string },
): Promise<OwedPaymentOutcome> {
  const now = ctx.clock.now();
  const { order, provider } = await ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
    const owed = await owedPayment(tx, license, now);
    const provider = await licenseProvider(tx, ctx, license.id);
    if (owed.state === 'none') {
      throw new StoreError('CONFLICT', 'This license has nothing to pay.');
    }
    if (owed.state !== 'payable') return { order: owed.order, provider };
    return { order: await payAgain(tx, ctx, license, owed.order, provider, now), provider };
  });
  if (order.status === 'paid') return { outcome: 'paid', order };
  if (order.status === 'failed') return { outcome: 'failed', order };
  const page = pageRequest(order, now, options.returnPath);
  if (page !== undefined) {
    const url = await openPaymentPage(ctx, provider, order.id, page);
    if (url !== undefined) return { outcome: 'payment_page', order, url };
  }
  return { outcome: 'pending', order };
}

/** How to open the processor's page of an order being paid, if it has one to open now. */
function pageRequest(
  order: OrderRecord,
  now: Date,
  returnPath: string,
): { returnPath?: string; expiresAt?: Date } | undefined {
  if (order.status !== 'pending') return undefined;
  if (order.details.paymentPage) return { returnPath, expiresAt: pageExpiry(order) };
  // The checkout's own page, as the checkout opened it (hosted-checkout.ts keeps it; were
  // that first attempt to have failed, this is the checkout's very request again).
  return onCheckoutPage(order, now) ? {} : undefined;
}

/**
 * The new order for a refused one (or one whose payment page expired), of the same kind,
 * plan, seats and amount, charged now; applied at once when paid.
 */
async function payAgain(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  refused: OrderRecord,
  provider: PaymentProvider,
  now: Date,
): Promise<OrderRecord> {
  if (refused.status === 'pending') {
    // Its payment page expired unpaid (the processor's expiry report may not be in yet), or
    // nothing will ever charge it: failed, so that one order stays payable.
    await ordersRepository(tx).settle(refused.id, { status: 'failed', at: now });
  }
  const order = await placeOrder(tx, ctx, {
    license,
    plan: await planOf(tx, ctx.config, license.productId, refused.planId),
    kind: refused.kind,
    seats: refused.seats,
    // What the order was placed at, even if the plan's price has changed since.
    amount: refused.amount,
    provider,
    details: {
      // The refused order's terms (a renewal's period and reason); not its own flags.
      ...withoutRetryFlags(refused.details),
      retryOf: refused.id,
      ...(provider.startCheckout && { paymentPage: true }),
    },
    now,
  });
  if (order.status === 'paid') await applyPaidOrder(tx, ctx, order, license, now);
  return order;
}

function withoutRetryFlags(details: OrderDetails): OrderDetails {
  const { retryOf: _retryOf, paymentPage: _paymentPage, ...terms } = details;
  return terms;
}
