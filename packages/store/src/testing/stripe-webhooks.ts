import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import Stripe from 'stripe';
import { ManualClock, seconds } from '../lib/clock.js';
import type { StripeFixtureServer } from '../payments/stripe-fixture-server.js';
import { startStripeFixtureServer, stripeFixture } from '../payments/stripe-fixture-server.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import type { TestStore } from './harness.js';
import { buildTestStore } from './harness.js';

/** Stripe's own helper signs the test events, exactly as Stripe signs deliveries. */
const signer = new Stripe('sk_test_signerOnly0000').webhooks;

/** A Stripe event of the fixtures, with a fresh id and `object` merged into its object. */
export function stripeEvent(name: string, object: Record<string, unknown> = {}) {
  const base = stripeFixture<{ id: string; data: { object: Record<string, unknown> } }>(name);
  return {
    ...base,
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    data: { object: { ...base.data.object, ...object } },
  };
}

/** Posts `event` to the store's Stripe webhook, signed with `secret` at the store's time. */
export function deliverStripeEvent(
  store: TestStore,
  secret: string,
  event: unknown,
): Promise<LightMyRequestResponse> {
  const payload = JSON.stringify(event);
  return store.app.inject({
    method: 'POST',
    url: '/v1/webhooks/payments/stripe',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signer.generateTestHeaderString({
        payload,
        secret,
        timestamp: seconds(store.clock.now()),
      }),
    },
    payload,
  });
}

/**
 * A store on a manual clock from `start`, selling through Stripe's fixture server
 * (payments/stripe-fixture-server.ts, on the same clock) with `webhookSecret`, and with
 * `product`, a product of that id with one monthly plan, `standard`. The SDK's
 * own retries are off: each failure test sees the first answer.
 */
export async function startStripeTestStore(
  start: number,
  webhookSecret: string,
  options: { product?: string } = {},
): Promise<{ store: TestStore; stripe: StripeFixtureServer }> {
  const clock = new ManualClock(start);
  const stripe = await startStripeFixtureServer({ now: () => clock.now() });
  const store = await buildTestStore({
    clock,
    storefrontProvider: 'stripe',
    licensing: {
      billing: { enabled: false },
      stripe: {
        secretKey: 'sk_test_licensekitFixture0000',
        webhookSecret,
        apiBase: stripe.base,
        maxNetworkRetries: 0,
        timeoutMs: 5_000,
      },
    },
  });
  if (options.product !== undefined) {
    // A product of its own with one plan, `standard`: 30.00 USD a month.
    const catalogue = catalogueRepository(store.db, 'http://store.test');
    await catalogue.upsertProduct({ id: options.product, name: options.product });
    await catalogue.upsertPlan(options.product, {
      id: 'standard',
      name: 'Standard',
      price: { amount: 3000, currency: 'USD' },
      interval: 'month',
      position: 1,
    });
  }
  return { store, stripe };
}

/**
 * Stripe's report that `orderId`'s Checkout page was paid `amount` with the card saved for
 * later payments, as Checkout leaves it (a PaymentIntent the fixture server then holds):
 * the webhook's answer and the Stripe customer.
 */
export async function payOnCheckout(
  store: TestStore,
  stripe: StripeFixtureServer,
  webhookSecret: string,
  orderId: string,
  amount: number,
): Promise<{ answer: LightMyRequestResponse; customer: string }> {
  const id = randomUUID().replace(/-/g, '').slice(0, 14);
  const customer = `cus_${id}`;
  const paymentIntent = `pi_checkout${id}`;
  stripe.paymentIntents.set(paymentIntent, {
    ...stripeFixture('payment-intent'),
    id: paymentIntent,
    amount,
    amount_received: amount,
    customer,
    payment_method: `pm_${id}`,
    setup_future_usage: 'off_session',
    metadata: { order_id: orderId },
  });
  const answer = await deliverStripeEvent(
    store,
    webhookSecret,
    stripeEvent('event-checkout-session-completed', {
      client_reference_id: orderId,
      metadata: { order_id: orderId },
      amount_total: amount,
      amount_subtotal: amount,
      payment_intent: paymentIntent,
      customer,
    }),
  );
  return { answer, customer };
}
