import type { IdempotentResult } from '../lib/idempotency.js';
import type { PaymentProvider } from '../payments/provider.js';
import { savedStripeCard } from '../payments/stripe-off-session.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { customersRepository } from '../repositories/customers.js';
import { ordersRepository } from '../repositories/orders.js';
import { paymentPagesRepository } from '../repositories/payment-pages.js';
import type { CheckoutResult } from './checkout.js';
import type { StoreContext } from './context.js';

/**
 * The payment page of a processor that has one (Stripe Checkout), opened after the
 * checkout's transaction committed: `charge` runs inside that transaction and must not
 * wait on the network, and a processor that fails must not roll back an order whose
 * license key the receipt already holds.
 *
 * A failure therefore leaves the order pending and answers 502
 * PAYMENT_PROVIDER_UNAVAILABLE. The same request with the same Idempotency-Key replays the
 * committed order (no second order) and comes here again; the processor's own idempotency
 * key (the order id) gives back the same session if the first attempt did create one.
 * An order that is no longer pending (paid, failed, cancelled since) gets no page.
 *
 * Once opened, an order's page is kept (payment_pages) and every later call answers it
 * without asking the processor again: Stripe refuses a request under a used idempotency
 * key whose parameters differ, and they can (the product or plan renamed since, a card
 * the customer saved with another purchase the same day, which makes the request name
 * their Stripe customer instead of their email). The processor being down does not stop
 * a customer from going back to a page they already had either.
 * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE
 */
export async function withPaymentPage(
  ctx: StoreContext,
  provider: PaymentProvider | undefined,
  result: IdempotentResult<CheckoutResult>,
): Promise<IdempotentResult<CheckoutResult>> {
  const { order: answered } = result.body;
  if (!provider?.startCheckout || answered.status !== 'pending') return result;
  const url = await openPaymentPage(ctx, provider, answered.id);
  return url === undefined ? result : { ...result, body: { ...result.body, checkoutUrl: url } };
}

/**
 * Opens the processor's payment page for a committed order that is still pending and
 * answers its address; undefined when there is none to open (no payment page at this
 * processor, the order settled since, nothing to pay).
 * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE
 */
export async function openPaymentPage(
  ctx: StoreContext,
  provider: PaymentProvider,
  orderId: string,
  options: { returnPath?: string; expiresAt?: Date } = {},
): Promise<string | undefined> {
  if (!provider.startCheckout) return undefined;
  const order = await ordersRepository(ctx.db).byId(orderId);
  if (order?.status !== 'pending' || order.amount === 0) return undefined;
  const pages = paymentPagesRepository(ctx.db);
  const opened = await pages.urlOf(order.id);
  if (opened !== undefined) return opened;
  const product = await catalogueRepository(ctx.db, ctx.config.publicUrl).getProduct(
    order.productId,
  );
  const plan = product?.plans.find((candidate) => candidate.id === order.planId);
  // The customer's email as the store keeps it (normalised), never as a request spelled it:
  // a first attempt that failed after Stripe made the session is sent again as it was.
  const customer = await customersRepository(ctx.db).byId(order.customerId);
  const saved =
    provider.name === 'stripe' ? await savedStripeCard(ctx.db, order.customerId) : undefined;
  let page: { url: string };
  try {
    page = await provider.startCheckout({
      orderId: order.id,
      productId: order.productId,
      planId: order.planId,
      amount: order.amount,
      currency: order.currency,
      description: product && plan ? `${product.name} — ${plan.name}` : order.productId,
      email: customer?.email ?? '',
      processorCustomer: saved?.stripeCustomer,
      returnPath: options.returnPath,
      expiresAt: options.expiresAt,
    });
  } catch (error) {
    ctx.log.warn(
      { order: order.id, provider: provider.name, error: (error as Error).message },
      'the payment page could not be opened; the order stays pending',
    );
    throw error;
  }
  return pages.remember(order.id, page.url, ctx.clock.now());
}
