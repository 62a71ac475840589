import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runBillingCycle } from '../services/billing.js';
import type { TestStore } from '../testing/harness.js';
import { postgresUnavailable } from '../testing/harness.js';
import { checkoutRequest, context, keyPost } from '../testing/licensing.js';
import {
  deliverStripeEvent,
  payOnCheckout,
  startStripeTestStore,
  stripeEvent,
} from '../testing/stripe-webhooks.js';
import type { RecordedStripeRequest, StripeFixtureServer } from './stripe-fixture-server.js';

/**
 * Cancelling a past-due Stripe license while its renewal's off-session PaymentIntent is in
 * flight (payments/stripe-off-session.ts): the store cancels the PaymentIntent at Stripe
 * before the order, so a payment is never taken for an order the store has cancelled.
 */

const WEBHOOK_SECRET = `whsec_${Buffer.from('the stripe cancel webhook secret').toString('base64')}`;
// A monthly period bought on April 1 ends on May 1.
const START = Date.UTC(2026, 3, 1);
const PERIOD_END = Date.UTC(2026, 4, 1);

describe.skipIf(postgresUnavailable)(
  'cancelling a past-due license with a charge in flight',
  () => {
    let stripe: StripeFixtureServer;
    let store: TestStore;

    beforeAll(async () => {
      ({ store, stripe } = await startStripeTestStore(START, WEBHOOK_SECRET, {
        product: 'gadget',
      }));
    });
    afterAll(async () => {
      await store?.close();
      await stripe?.close();
    });

    const deliver = (event: unknown) => deliverStripeEvent(store, WEBHOOK_SECRET, event);

    const event = stripeEvent;

    const orderOf = async (id: string) =>
      (
        await store.db.query<{ status: string; provider_ref: string | null }>(
          'SELECT status, provider_ref FROM orders WHERE id = $1',
          [id],
        )
      )[0]!;
    const licenseOf = async (id: string) =>
      (
        await store.db.query<{ status: string; pending_change: { kind: string } | null }>(
          'SELECT status, pending_change FROM licenses WHERE id = $1',
          [id],
        )
      )[0]!;

    /**
     * A license bought on Checkout (its card saved), renewed off session at the period end:
     * past due, its renewal pending on the PaymentIntent the billing job sent.
     */
    async function pastDueWithChargeSent() {
      store.clock.set(START);
      const bought = await checkoutRequest(store, {
        productId: 'gadget',
        planId: 'standard',
        email: `buyer-${randomUUID()}@example.com`,
        provider: 'stripe',
      });
      expect(bought.statusCode).toBe(201);
      const purchaseId: string = bought.json().order.id;
      const { answer: paid } = await payOnCheckout(store, stripe, WEBHOOK_SECRET, purchaseId, 3000);
      expect(paid.json()).toMatchObject({ order: { status: 'paid' } });

      store.clock.set(PERIOD_END + 1000);
      await runBillingCycle(context(store), store.clock.now());
      const licenseId: string = bought.json().license.id;
      const [renewal] = await store.db.query<{ id: string; provider_ref: string }>(
        "SELECT id, provider_ref FROM orders WHERE license_id = $1 AND kind = 'renewal'",
        [licenseId],
      );
      expect(renewal!.provider_ref).toMatch(/^pi_/);
      expect((await licenseOf(licenseId)).status).toBe('past_due');
      return {
        key: bought.json().license.key as string,
        licenseId,
        renewalId: renewal!.id,
        intent: stripe.paymentIntents.get(renewal!.provider_ref)!,
      };
    }

    const cancel = (key: string) => keyPost(store, '/v1/licenses/cancel', key, {});
    const cancelCallsOf = (intentId: string) => (r: RecordedStripeRequest) =>
      r.method === 'POST' && r.path === `/v1/payment_intents/${intentId}/cancel`;

    test('a charge Stripe has taken is never dropped: 409, and its payment renews the license', async () => {
      const { key, licenseId, renewalId, intent } = await pastDueWithChargeSent();
      // Off session, the card was charged at once (the fixture's PaymentIntent succeeded);
      // Stripe's webhook is still on its way when the customer cancels.
      expect(intent.status).toBe('succeeded');
      const answer = await cancel(key);
      const paid = await deliver(
        event('event-payment-intent-succeeded', { ...intent, status: 'succeeded' }),
      );
      // The payment the customer made is recorded (were the order cancelled, it would only
      // be given back): the order paid, the license renewed.
      expect(paid.statusCode).toBe(200);
      expect(paid.json()).toMatchObject({ order: { id: renewalId, status: 'paid' } });
      expect((await licenseOf(licenseId)).status).toBe('active');

      // The cancellation was refused, after Stripe refused to cancel the PaymentIntent.
      expect(answer.statusCode).toBe(409);
      expect(answer.json().error).toMatchObject({ code: 'CONFLICT' });
      expect(answer.json().error.message).toContain('being processed');
      expect(stripe.requests.filter(cancelCallsOf(intent.id as string)).length).toBe(1);

      // Cancelling now ends the license at the end of the period it paid for.
      const cancelled = await cancel(key);
      expect(cancelled.statusCode).toBe(200);
      expect((await licenseOf(licenseId)).pending_change).toMatchObject({ kind: 'cancel' });
    });

    test('a charge Stripe can still stop is cancelled there first, then the license', async () => {
      const { key, licenseId, renewalId, intent } = await pastDueWithChargeSent();
      // The bank asked for authentication, or the charge has not been confirmed yet.
      intent.status = 'requires_action';
      const cancelled = await cancel(key);
      expect(cancelled.statusCode).toBe(200);
      expect(stripe.requests.filter(cancelCallsOf(intent.id as string)).length).toBe(1);
      expect(stripe.paymentIntents.get(intent.id as string)).toMatchObject({ status: 'canceled' });
      expect((await orderOf(renewalId)).status).toBe('cancelled');
      expect((await licenseOf(licenseId)).status).toBe('cancelled');
    });

    test('Stripe unreachable: 502 and nothing changes; asked again, the cancellation goes through', async () => {
      const { key, licenseId, renewalId, intent } = await pastDueWithChargeSent();
      intent.status = 'requires_payment_method';
      stripe.failNext(500, 'error-api', 1, cancelCallsOf(intent.id as string));
      const down = await cancel(key);
      expect(down.statusCode).toBe(502);
      expect(down.json().error).toMatchObject({ code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
      expect((await orderOf(renewalId)).status).toBe('pending');
      expect((await licenseOf(licenseId)).status).toBe('past_due');
      expect(intent.status).toBe('requires_payment_method');

      expect((await cancel(key)).statusCode).toBe(200);
      expect((await orderOf(renewalId)).status).toBe('cancelled');
      expect(intent.status).toBe('canceled');
    });
  },
);
