import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import Stripe from 'stripe';
import { seconds } from '../lib/clock.js';
import { stripeFixture } from '../payments/stripe-fixture-server.js';
import type { TestStore } from './harness.js';

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
