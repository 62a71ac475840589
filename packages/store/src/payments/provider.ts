import type { StoreConfig } from '../config.js';
import { manualProvider } from './manual.js';
import { stripeProvider } from './stripe.js';
import { testProvider } from './test.js';
import { webhookProvider } from './webhook.js';

/**
 * Payments behind one interface. The store asks a provider to charge an order; the
 * provider answers at once (`paid`, `failed`) or later (`pending`: an admin marks the
 * order paid, or a processor's signed webhook reports `order.paid` / `order.failed` for
 * the order's reference).
 *
 * `charge` runs inside the store's transaction for the order. A provider for a real
 * processor must therefore not wait on the network there: it answers `pending` with the
 * reference its processor will use, and the webhook settles the order.
 */
export interface ChargeRequest {
  orderId: string;
  licenseId: string;
  customerId: string;
  kind: string;
  amount: number;
  currency: string;
  description: string;
}

export type ChargeOutcome =
  | { status: 'paid'; reference?: string }
  | { status: 'pending'; reference?: string }
  | { status: 'failed'; reason: string };

export interface PaymentProvider {
  readonly name: string;
  /** Orders (and the licenses they create) through this provider are marked test. */
  readonly test: boolean;
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  /**
   * Returns money to the customer at the processor, called after the store committed the
   * refund (services/order-refunds.ts). Absent when nothing moved (test) or the money goes
   * back by hand (manual). A failure is reported to the operator; the refund stays booked.
   */
  refund?(request: ProviderRefundRequest): Promise<{ reference?: string }>;
  /**
   * A processor with its own payment page (Stripe Checkout): opens a session for a pending
   * order and answers where the customer pays. Called by the checkout after its order
   * committed (never inside `charge`, which must not wait on the network).
   * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE when the processor fails
   */
  startCheckout?(request: HostedCheckoutRequest): Promise<{ url: string }>;
}

export interface HostedCheckoutRequest {
  orderId: string;
  productId: string;
  planId: string;
  /** Minor units. */
  amount: number;
  currency: string;
  /** What the payment page calls the purchase. */
  description: string;
  email: string;
  /**
   * The processor's customer saved from this buyer's earlier payment (Stripe `cus_…`),
   * reused so that one buyer stays one customer there.
   */
  processorCustomer?: string | undefined;
  /**
   * The store page the customer goes back to when they leave the payment page unpaid;
   * the product's page when absent (a purchase). A path on the store, starting with '/'.
   */
  returnPath?: string | undefined;
  /**
   * Until when the page can be paid (Stripe: 30 minutes to 24 hours after the session is
   * created; its default, 24 hours, when absent).
   */
  expiresAt?: Date | undefined;
}

export interface ProviderRefundRequest {
  orderId: string;
  /** The processor's reference of the order's payment (orders.provider_ref). */
  reference: string | null;
  refundId: string;
  /** Minor units; may be less than the order (a partial refund). */
  amount: number;
  currency: string;
  reason: string;
}

const registries = new WeakMap<StoreConfig, Map<string, PaymentProvider>>();

/**
 * The providers of a store: `test` while test payments are on, `manual`, one per
 * configured webhook secret, and `stripe` when STRIPE_SECRET_KEY is set. With test
 * payments off, a license bought with `test` no longer renews for nothing: its charges
 * wait for an admin, as those of any provider no longer configured.
 */
export function paymentProviders(config: StoreConfig): Map<string, PaymentProvider> {
  let registry = registries.get(config);
  if (!registry) {
    registry = new Map<string, PaymentProvider>([['manual', manualProvider]]);
    if (config.licensing.testPayments) registry.set('test', testProvider);
    for (const name of Object.keys(config.licensing.paymentWebhookSecrets)) {
      registry.set(name, webhookProvider(name));
    }
    // Only when configured: a checkout naming `stripe` is otherwise "no such provider".
    if (config.licensing.stripe) {
      registry.set('stripe', stripeProvider(config.licensing.stripe, config.publicUrl));
    }
    registries.set(config, registry);
  }
  return registry;
}

/**
 * A provider by name. A license keeps charging through the provider it was bought with;
 * if that provider is no longer configured its charges wait for an admin (manual).
 */
export function paymentProvider(config: StoreConfig, name: string): PaymentProvider | undefined {
  return paymentProviders(config).get(name);
}
