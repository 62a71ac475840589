import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { PaymentProvider } from '../payments/provider.js';
import { savedStripeCard } from '../payments/stripe-off-session.js';
import { customersRepository } from '../repositories/customers.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import type { OrderDetails, OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import { applyRenewalPayment, lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import { openPaymentPage } from './hosted-checkout.js';
import { isRevoked, planOf } from './licensing.js';
import { licenseProvider, placeOrder } from './orders.js';

/**
 * Paying an overdue renewal. A renewal the processor refused (a declined card, a bank
 * asking the customer to confirm an off-session charge) leaves its license past due with
 * a failed order. The customer pays it here, from the portal: a new renewal order for the
 * same period, seats and amount (`retryOf` names the refused one), through the license's
 * provider. Paid at once, the license is active again for the period the renewal was for
 * (or from now when that period is over: billing.ts applyRenewalPayment). At a processor
 * with a payment page (Stripe Checkout) the order waits there, flagged `paymentPage` so
 * that the billing job never also charges it off-session; paying it there settles it
 * through the processor's webhook, and a second click opens the same order's page again.
 *
 * That page can be paid until an hour after the order was placed
 * ({@link OVERDUE_PAGE_SECONDS}; every session of the order ends then, however late it was
 * opened). Until then, and ten minutes more for the clocks, the license cannot be
 * cancelled (plan-changes.ts), since a cancellation cancels the order the page would still
 * take money for; after it, the order can no longer be paid, so a click places a new one.
 *
 * A renewal still pending elsewhere (an off-session charge in flight, an invoice an admin
 * marks paid) is left alone: a second order for it could charge the customer twice. The
 * exception is a Stripe renewal nothing will ever send (its customer saved no card): it is
 * failed and replaced by one the customer pays on Checkout.
 */

/** How long the processor's page of an overdue renewal can be paid (Stripe: ≥ 30 min). */
export const OVERDUE_PAGE_SECONDS = 3600;
/**
 * How much later than the processor the store holds a page for closed: the store's clock
 * and the processor's may differ, and a page paid in that gap must find its order pending.
 */
const CLOCK_MARGIN_MS = 10 * 60_000;

/**
 * The overdue renewal of a license being paid on the processor's page now, if any: a
 * pending `paymentPage` order whose page has not expired at `now`.
 */
export function openPaymentPageOrder(
  pending: readonly OrderRecord[],
  now: Date,
): OrderRecord | undefined {
  return pending.find((order) => order.details.paymentPage === true && !pageClosed(order, now));
}

/** When the processor's page of a `paymentPage` order stops taking payment. */
function pageExpiry(order: OrderRecord): Date {
  return new Date(order.createdAt.getTime() + OVERDUE_PAGE_SECONDS * 1000);
}

/** Whether the page of a `paymentPage` order can no longer be paid at `now`, margin included. */
function pageClosed(order: OrderRecord, now: Date): boolean {
  return now.getTime() >= pageExpiry(order).getTime() + CLOCK_MARGIN_MS;
}

/**
 * Whether a pending renewal will never be charged by itself: a Stripe order no
 * PaymentIntent was sent for, whose customer saved no card (bought before cards were
 * saved, or with a method that saved none), which the billing job therefore never sends.
 * The customer pays it on Checkout instead; the order is failed and replaced.
 */
async function unsendable(db: Queryable, order: OrderRecord): Promise<boolean> {
  if (order.provider !== 'stripe' || order.providerRef?.startsWith('pi_')) return false;
  return (await savedStripeCard(db, order.customerId)) === undefined;
}

export type OverdueRenewal =
  /** Nothing is overdue: the license is not past due. */
  | { state: 'none' }
  /**
   * The renewal was refused, its payment page expired unpaid, or it can never be charged
   * by itself (a Stripe customer without a saved card): the customer can pay it.
   */
  | { state: 'payable'; order: OrderRecord }
  /** The customer started paying on the processor's page: they can go back to it. */
  | { state: 'started'; order: OrderRecord }
  /** The renewal is with the processor or an admin: nothing to do but wait. */
  | { state: 'processing'; order: OrderRecord };

/** Where the overdue renewal of `license` stands at `now`. */
export async function overdueRenewal(
  db: Queryable,
  license: LicenseRecord,
  now: Date,
): Promise<OverdueRenewal> {
  if (license.status !== 'past_due' || isRevoked(license)) return { state: 'none' };
  const order = await ordersRepository(db).latestRenewal(license.id);
  if (!order || order.status === 'paid' || order.status === 'cancelled') return { state: 'none' };
  if (order.status === 'failed') return { state: 'payable', order };
  if (!order.details.paymentPage) {
    return { state: (await unsendable(db, order)) ? 'payable' : 'processing', order };
  }
  return { state: pageClosed(order, now) ? 'payable' : 'started', order };
}

export type OverduePayment =
  /** Paid at once (the test provider): the license is active again. */
  | { outcome: 'paid'; order: OrderRecord }
  /** The customer pays on the processor's page at `url`. */
  | { outcome: 'payment_page'; order: OrderRecord; url: string }
  /** Pending with the processor or an admin. */
  | { outcome: 'pending'; order: OrderRecord }
  /** The provider refused it again at once. */
  | { outcome: 'failed'; order: OrderRecord };

/**
 * Pays the overdue renewal of a license (see above). `returnPath` is the store page the
 * processor's payment page goes back to when the customer leaves it unpaid.
 * @throws StoreError LICENSE_NOT_FOUND, LICENSE_REVOKED; CONFLICT when nothing is
 *   overdue; PAYMENT_PROVIDER_UNAVAILABLE when the payment page cannot be opened (the
 *   order stays pending and the same call opens it again)
 */
export async function payOverdueRenewal(
  ctx: StoreContext,
  licenseId: string,
  options: { returnPath: string },
): Promise<OverduePayment> {
  const now = ctx.clock.now();
  const { order, provider } = await ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
    const overdue = await overdueRenewal(tx, license, now);
    const provider = await licenseProvider(tx, ctx, license.id);
    if (overdue.state === 'none') {
      throw new StoreError('CONFLICT', 'This license has no overdue renewal to pay.');
    }
    if (overdue.state !== 'payable') return { order: overdue.order, provider };
    return { order: await retryRenewal(tx, ctx, license, overdue.order, provider, now), provider };
  });
  if (order.status === 'paid') return { outcome: 'paid', order };
  if (order.status === 'failed') return { outcome: 'failed', order };
  if (order.status === 'pending' && order.details.paymentPage) {
    const customer = await customersRepository(ctx.db).byId(order.customerId);
    const url = await openPaymentPage(ctx, provider, order.id, {
      email: customer?.email ?? '',
      returnPath: options.returnPath,
      expiresAt: pageExpiry(order),
    });
    if (url !== undefined) return { outcome: 'payment_page', order, url };
  }
  return { outcome: 'pending', order };
}

/**
 * The new order for a refused renewal (or one whose payment page expired), charged now;
 * applied at once when paid.
 */
async function retryRenewal(
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
    kind: 'renewal',
    seats: refused.seats,
    // What the renewal was billed at, even if the plan's price has changed since.
    amount: refused.amount,
    provider,
    details: {
      // The refused order's period and reason; its own flags are not carried over.
      ...withoutRetryFlags(refused.details),
      retryOf: refused.id,
      ...(provider.startCheckout && { paymentPage: true }),
    },
    now,
  });
  if (order.status === 'paid') await applyRenewalPayment(tx, ctx, order, license, now);
  return order;
}

function withoutRetryFlags(details: OrderDetails): OrderDetails {
  const { retryOf: _retryOf, paymentPage: _paymentPage, ...terms } = details;
  return terms;
}
