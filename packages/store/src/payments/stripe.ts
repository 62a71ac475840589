import Stripe from 'stripe';
import { StoreError } from '../errors.js';
import type { HostedCheckoutRequest, PaymentProvider, ProviderRefundRequest } from './provider.js';
import type { StripeConfig } from './stripe-config.js';

/**
 * Stripe, through its official SDK: a purchase is paid on a Stripe Checkout page, the
 * store learns the outcome from Stripe's signed webhooks (payments/stripe-events.ts), and
 * a refund the store books is sent to Stripe.
 *
 * - `charge` (inside the order's transaction) answers `pending` with the order id as the
 *   reference, and touches no network.
 * - `startCheckout` (after the commit) creates the Checkout Session. Its idempotency key
 *   is the order id, so a retried checkout (same Idempotency-Key) gets the same session
 *   back from Stripe instead of a second one for one order.
 * - When Stripe reports the session paid, the order's reference becomes the
 *   PaymentIntent id (`pi_…`): refunds, refund reports and disputes name it.
 * - `refund` sends `refunds.create` with the store's refund id as idempotency key and as
 *   metadata, so Stripe's report of that refund is recognised as one already booked.
 * - `returnLatePayment` refunds, whole, a payment Stripe reports for an order the store no
 *   longer honours (cancelled or failed), keyed by its PaymentIntent.
 */
export interface StripeProvider extends PaymentProvider {
  readonly name: 'stripe';
  startCheckout(request: HostedCheckoutRequest): Promise<{ url: string }>;
  refund(request: ProviderRefundRequest): Promise<{ reference?: string }>;
  /**
   * Verifies a webhook (`Stripe-Signature` over the exact body bytes, 5 minutes of
   * tolerance measured against the store's clock) and parses its event.
   * @throws StoreError WEBHOOK_SIGNATURE_INVALID; BAD_REQUEST for a body that verifies
   *   but is not JSON
   */
  verifyEvent(body: Buffer, signature: string | undefined, nowMs: number): Stripe.Event;
  /**
   * Charges a saved card with no customer present: a PaymentIntent with `off_session` and
   * `confirm`, the order id as idempotency key and metadata. Card refusals
   * (`authentication_required`, `card_declined`) answer `declined` with the
   * PaymentIntent Stripe created; anything else throws (the billing job retries).
   * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE
   */
  chargeOffSession(request: OffSessionCharge): Promise<OffSessionOutcome>;
  /** A PaymentIntent (the customer and card a Checkout payment saved). */
  paymentIntent(id: string): Promise<Stripe.PaymentIntent>;
  /**
   * Cancels a PaymentIntent so that it can no longer take money, and answers its status:
   * `canceled` when Stripe cancelled it (now or before); otherwise the status that made
   * Stripe refuse (`succeeded`, `processing`: the payment goes through and its webhook
   * follows).
   * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE
   */
  cancelPaymentIntent(id: string): Promise<Stripe.PaymentIntent.Status>;
  /** The refunds of a charge (`charge.refunded` carries none since API 2022-11-15). */
  refundsOfCharge(chargeId: string): Promise<Stripe.Refund[]>;
  /**
   * Gives back, whole, a payment Stripe took for an order the store no longer honours
   * (payments/stripe-events.ts). The idempotency key is derived from the PaymentIntent, so
   * every retry of the webhook asks for the same refund and Stripe makes it once; once
   * Stripe has forgotten the key (after 24 hours) a payment refunded in full is refused as
   * `charge_already_refunded`, which answers `already_refunded`: nothing is left to return.
   * @throws StoreError PAYMENT_PROVIDER_UNAVAILABLE (Stripe delivers the event again)
   */
  returnLatePayment(paymentIntent: string, orderId: string): Promise<LatePaymentReturn>;
}

export type LatePaymentReturn =
  | { status: 'refunded'; refund: Stripe.Refund }
  | { status: 'already_refunded' };

export interface OffSessionCharge {
  orderId: string;
  /** Minor units. */
  amount: number;
  currency: string;
  description: string;
  stripeCustomer: string;
  paymentMethod: string;
}

export type OffSessionOutcome =
  | { status: 'sent'; paymentIntent: string }
  | { status: 'declined'; paymentIntent: string | undefined; code: string };

const RETRY_CHECKOUT =
  'Nothing was charged and the order is kept: send the same request again (same Idempotency-Key) to retry.';

/** Stripe's own default, stated so the store's tests can rely on it. */
export const STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;

export function stripeProvider(config: StripeConfig, publicUrl: string): StripeProvider {
  const client = new Stripe(config.secretKey, {
    maxNetworkRetries: config.maxNetworkRetries,
    timeout: config.timeoutMs,
    telemetry: false,
    appInfo: { name: 'licensekit' },
    ...(config.api && {
      host: config.api.host,
      port: config.api.port,
      protocol: config.api.protocol,
    }),
  });
  return {
    name: 'stripe',
    // Stripe's test mode moves no money: its orders and licenses are marked test.
    test: /^(sk|rk)_test_/.test(config.secretKey),

    async charge(request) {
      return { status: 'pending', reference: request.orderId };
    },

    async startCheckout(request) {
      let session: Stripe.Checkout.Session;
      try {
        session = await client.checkout.sessions.create(
          {
            mode: 'payment',
            client_reference_id: request.orderId,
            // The card is saved for the renewals and plan changes charged later, off
            // session (payments/stripe-off-session.ts); that needs a Stripe Customer.
            ...(request.processorCustomer
              ? { customer: request.processorCustomer }
              : { customer_email: request.email, customer_creation: 'always' as const }),
            line_items: [
              {
                quantity: 1,
                price_data: {
                  // Stripe's amounts are in the currency's smallest unit, as the store's are.
                  currency: request.currency.toLowerCase(),
                  unit_amount: request.amount,
                  product_data: { name: request.description },
                },
              },
            ],
            metadata: { order_id: request.orderId },
            payment_intent_data: {
              metadata: { order_id: request.orderId },
              setup_future_usage: 'off_session',
            },
            success_url: `${publicUrl}/portal/license?checkout=paid`,
            ...(request.expiresAt && {
              expires_at: Math.floor(request.expiresAt.getTime() / 1000),
            }),
            cancel_url: `${publicUrl}${request.returnPath ?? `/products/${encodeURIComponent(request.productId)}?plan=${encodeURIComponent(request.planId)}`}`,
          },
          { idempotencyKey: request.orderId },
        );
      } catch (error) {
        throw unavailable('could not create the checkout session', error, RETRY_CHECKOUT);
      }
      if (typeof session.url !== 'string' || !/^https?:\/\//.test(session.url)) {
        throw unavailable(
          'answered a checkout session without a payment page',
          undefined,
          RETRY_CHECKOUT,
        );
      }
      return { url: session.url };
    },

    async refund(request) {
      if (request.reference === null || !request.reference.startsWith('pi_')) {
        throw new StoreError(
          'CONFLICT',
          'This order has no Stripe payment (PaymentIntent) to refund: return the money in the Stripe dashboard.',
        );
      }
      try {
        const refund = await client.refunds.create(
          {
            payment_intent: request.reference,
            amount: request.amount,
            reason: 'requested_by_customer',
            metadata: { order_id: request.orderId, refund_id: request.refundId },
          },
          { idempotencyKey: request.refundId },
        );
        return { reference: refund.id };
      } catch (error) {
        throw unavailable(
          'refused the refund',
          error,
          'Return the money in the Stripe dashboard, or retry.',
        );
      }
    },

    verifyEvent(body, signature, nowMs) {
      if (!signature) {
        throw new StoreError('WEBHOOK_SIGNATURE_INVALID', 'Webhook refused: no Stripe-Signature.');
      }
      try {
        return client.webhooks.constructEvent(
          body,
          signature,
          config.webhookSecret,
          STRIPE_WEBHOOK_TOLERANCE_SECONDS,
          undefined,
          nowMs,
        );
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          throw new StoreError(
            'WEBHOOK_SIGNATURE_INVALID',
            'Webhook refused: the Stripe-Signature does not match the body, or is too old.',
          );
        }
        // The signature held, so these bytes are Stripe's; they are still not JSON.
        if (error instanceof SyntaxError) {
          throw new StoreError('BAD_REQUEST', 'The webhook body is not JSON.');
        }
        throw error;
      }
    },

    async chargeOffSession(request) {
      try {
        const intent = await client.paymentIntents.create(
          {
            amount: request.amount,
            currency: request.currency.toLowerCase(),
            customer: request.stripeCustomer,
            payment_method: request.paymentMethod,
            off_session: true,
            confirm: true,
            description: request.description,
            metadata: { order_id: request.orderId },
          },
          // A retry after a crash or a timeout gets the same PaymentIntent, never a second.
          { idempotencyKey: request.orderId },
        );
        return { status: 'sent', paymentIntent: intent.id };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeCardError) {
          // The PaymentIntent exists and failed; Stripe also reports it as
          // payment_intent.payment_failed.
          return {
            status: 'declined',
            paymentIntent: error.payment_intent?.id,
            code: error.code ?? 'card_error',
          };
        }
        throw unavailable(
          'could not charge the saved card',
          error,
          'The order stays pending and the billing job tries again.',
        );
      }
    },

    async paymentIntent(id) {
      try {
        return await client.paymentIntents.retrieve(id);
      } catch (error) {
        throw unavailable(
          'could not read a PaymentIntent',
          error,
          'Stripe will deliver the event again.',
        );
      }
    },

    async cancelPaymentIntent(id) {
      try {
        return (
          await client.paymentIntents.cancel(id, { cancellation_reason: 'requested_by_customer' })
        ).status;
      } catch (error) {
        // Stripe cancels only an intent not yet paid; otherwise it answers
        // payment_intent_unexpected_state, naming the intent in the state it is in.
        if (
          error instanceof Stripe.errors.StripeInvalidRequestError &&
          error.code === 'payment_intent_unexpected_state'
        ) {
          return error.payment_intent?.status ?? (await this.paymentIntent(id)).status;
        }
        throw unavailable(
          'could not cancel a PaymentIntent',
          error,
          'Nothing was changed: try again.',
        );
      }
    },

    async returnLatePayment(paymentIntent, orderId) {
      try {
        // No amount: Stripe refunds all that is left of the payment.
        const refund = await client.refunds.create(
          { payment_intent: paymentIntent, metadata: { order_id: orderId, late_payment: 'true' } },
          { idempotencyKey: `late-payment-${paymentIntent}` },
        );
        return { status: 'refunded', refund };
      } catch (error) {
        if (
          error instanceof Stripe.errors.StripeInvalidRequestError &&
          error.code === 'charge_already_refunded'
        ) {
          return { status: 'already_refunded' };
        }
        throw unavailable(
          'could not refund a payment of an order the store no longer honours',
          error,
          'Stripe will deliver the event again.',
        );
      }
    },

    async refundsOfCharge(chargeId) {
      try {
        const refunds: Stripe.Refund[] = [];
        for await (const refund of client.refunds.list({ charge: chargeId, limit: 100 })) {
          refunds.push(refund);
          // A charge has at most a few refunds; a runaway list is not worth following.
          if (refunds.length >= 1000) break;
        }
        return refunds;
      } catch (error) {
        throw unavailable(
          'could not list the refunds of a charge',
          error,
          'Stripe will deliver the event again.',
        );
      }
    },
  };
}

/**
 * A Stripe failure as the store answers it. The message names the failure's kind and
 * Stripe's request id (what Stripe's support asks for), never Stripe's own text: an
 * authentication error quotes part of the API key.
 */
function unavailable(what: string, error: unknown, advice: string): StoreError {
  const detail =
    error instanceof Stripe.errors.StripeError
      ? ` (${error.type}${error.code ? ` ${error.code}` : ''}${error.statusCode ? `, HTTP ${error.statusCode}` : ''}${error.requestId ? `, request ${error.requestId}` : ''})`
      : '';
  return new StoreError('PAYMENT_PROVIDER_UNAVAILABLE', `Stripe ${what}${detail}. ${advice}`);
}
