import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runBillingCycle } from '../services/billing.js';
import type { TestStore } from '../testing/harness.js';
import { postgresUnavailable } from '../testing/harness.js';
import { checkoutRequest, context, keyPost } from '../testing/licensing.js';
import { PageClient } from '../testing/pages.js';
import {
  deliverStripeEvent,
  stripeEvent as event,
  payOnCheckout,
  startStripeTestStore,
} from '../testing/stripe-webhooks.js';
import type { RecordedStripeRequest, StripeFixtureServer } from './stripe-fixture-server.js';
import { stripeFixture } from './stripe-fixture-server.js';

/**
 * A payment Stripe reports for an order the store no longer honours (cancelled, or failed
 * and replaced): the store gives the money back at Stripe and records the event, instead
 * of refusing the webhook until Stripe gives up with the customer charged
 * (payments/stripe-events.ts, `returnLatePayment`).
 */

const WEBHOOK_SECRET = `whsec_${Buffer.from('the stripe late payment webhook secret').toString('base64')}`;
// A monthly period bought on April 1 ends on May 1.
const START = Date.UTC(2026, 3, 1);
const PERIOD_END = Date.UTC(2026, 4, 1);

describe.skipIf(postgresUnavailable)('a Stripe payment of an order no longer honoured', () => {
  let stripe: StripeFixtureServer;
  let store: TestStore;

  beforeAll(async () => {
    ({ store, stripe } = await startStripeTestStore(START, WEBHOOK_SECRET, { product: 'gizmo' }));
  });
  afterAll(async () => {
    await store?.close();
    await stripe?.close();
  });

  const deliver = (report: unknown) => deliverStripeEvent(store, WEBHOOK_SECRET, report);

  const suffix = () => randomUUID().replace(/-/g, '').slice(0, 14);
  const orderOf = async (id: string) =>
    (
      await store.db.query<{ status: string; provider_ref: string | null }>(
        'SELECT status, provider_ref FROM orders WHERE id = $1',
        [id],
      )
    )[0]!;
  const licenseStatus = async (id: string) =>
    (
      await store.db.query<{ status: string }>('SELECT status FROM licenses WHERE id = $1', [id])
    )[0]!.status;
  const recorded = async (eventId: string) =>
    (
      await store.db.query(
        "SELECT 1 FROM payment_webhook_events WHERE provider = 'stripe' AND id = $1",
        [eventId],
      )
    ).length > 0;
  /** What the store booked for an order: ledger lines, refunds rows and invoices. */
  const booked = async (orderId: string) => {
    const count = async (sql: string) =>
      Number((await store.db.query<{ n: number }>(sql, [orderId]))[0]!.n);
    return {
      ledger: await count('SELECT count(*)::int AS n FROM ledger_lines WHERE order_id = $1'),
      refunds: await count('SELECT count(*)::int AS n FROM refunds WHERE order_id = $1'),
      invoices: await count('SELECT count(*)::int AS n FROM invoices WHERE order_id = $1'),
    };
  };
  const refundCallsOf = (intentId: string) =>
    stripe.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.path === '/v1/refunds' &&
        r.form.get('payment_intent') === intentId,
    );
  const refundsCall = (r: RecordedStripeRequest) => r.method === 'POST' && r.path === '/v1/refunds';
  const operatorEntries = (orderId: string) =>
    store.db.query<{ actor: string; action: string; detail: Record<string, unknown> }>(
      'SELECT actor, action, detail FROM admin_actions WHERE target = $1',
      [orderId],
    );

  /** A license bought on Checkout, its card saved for the renewals. */
  async function boughtOnCheckout() {
    store.clock.set(START);
    const bought = await checkoutRequest(store, {
      productId: 'gizmo',
      planId: 'standard',
      email: `buyer-${randomUUID()}@example.com`,
      provider: 'stripe',
    });
    expect(bought.statusCode).toBe(201);
    const purchaseId: string = bought.json().order.id;
    const licenseId: string = bought.json().license.id;
    const { answer: paid, customer } = await payOnCheckout(
      store,
      stripe,
      WEBHOOK_SECRET,
      purchaseId,
      3000,
    );
    expect(paid.json()).toMatchObject({ order: { status: 'paid' } });
    return { licenseId, key: bought.json().license.key as string, customer };
  }

  /** The renewal order of a license and the PaymentIntent Stripe holds for it. */
  async function renewalOf(licenseId: string) {
    const [renewal] = await store.db.query<{ id: string }>(
      "SELECT id FROM orders WHERE license_id = $1 AND kind = 'renewal'",
      [licenseId],
    );
    const renewalId = renewal!.id;
    const intent = [...stripe.paymentIntents.values()].find(
      (candidate) => (candidate.metadata as { order_id?: string }).order_id === renewalId,
    )!;
    return { renewalId, intent };
  }

  /**
   * A license whose renewal the billing job charged off session at the period end; Stripe
   * took the money but its answer was lost, so the order names no PaymentIntent yet. The
   * customer then cancels the past-due license: with no charge known to stop, the renewal
   * is cancelled. Answers the cancelled renewal and the PaymentIntent Stripe holds for it.
   */
  async function cancelledRenewalWithChargeTaken() {
    const { licenseId, key, customer } = await boughtOnCheckout();
    store.clock.set(PERIOD_END + 1000);
    // The SDK sends once more on a connection closed before an answer: both are lost.
    const charge = (r: RecordedStripeRequest) =>
      r.path === '/v1/payment_intents' && r.form.get('customer') === customer;
    stripe.dropNext(charge);
    stripe.dropNext(charge);
    await runBillingCycle(context(store), store.clock.now());
    const { renewalId, intent } = await renewalOf(licenseId);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 3000 });
    expect(await orderOf(renewalId)).toMatchObject({ status: 'pending' });
    expect((await orderOf(renewalId)).provider_ref).not.toMatch(/^pi_/);

    const cancelled = await keyPost(store, '/v1/licenses/cancel', key, {});
    expect(cancelled.statusCode).toBe(200);
    expect((await orderOf(renewalId)).status).toBe('cancelled');
    expect(await licenseStatus(licenseId)).toBe('cancelled');
    return { licenseId, renewalId, intent };
  }

  test('the payment of a cancelled renewal is refunded in full at Stripe, once', async () => {
    const { licenseId, renewalId, intent } = await cancelledRenewalWithChargeTaken();
    const intentId = intent.id as string;
    const report = event('event-payment-intent-succeeded', { ...intent, status: 'succeeded' });
    const answer = await deliver(report);

    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      duplicate: false,
      ignored: false,
      order: { id: renewalId, status: 'cancelled' },
      latePayment: 'refunded',
    });
    // The whole payment goes back, keyed by its PaymentIntent.
    const calls = refundCallsOf(intentId);
    expect(calls.length).toBe(1);
    expect(calls[0]!.headers['idempotency-key']).toBe(`late-payment-${intentId}`);
    expect(calls[0]!.form.get('amount')).toBeNull();
    expect(calls[0]!.form.get('metadata[order_id]')).toBe(renewalId);
    const refund = (await stripeRefundOf(intentId))!;
    expect(refund).toMatchObject({ amount: 3000, payment_intent: intentId, status: 'succeeded' });

    // The store honours nothing of it: the order and license stay as they were, and
    // nothing is booked (the payment never was).
    expect((await orderOf(renewalId)).status).toBe('cancelled');
    expect(await licenseStatus(licenseId)).toBe('cancelled');
    expect(await booked(renewalId)).toEqual({ ledger: 0, refunds: 0, invoices: 0 });
    expect(await recorded(report.id)).toBe(true);
    // The operator sees it on the order's activity.
    const entries = await operatorEntries(renewalId);
    expect(entries).toEqual([
      expect.objectContaining({
        actor: 'stripe',
        action: 'order.refunded',
        detail: expect.objectContaining({
          amount: 3000,
          currency: 'USD',
          paymentIntent: intentId,
          stripeRefund: refund.id,
          processorEvent: report.id,
        }),
      }),
    ]);

    // Stripe delivers it again: a duplicate, no second refund.
    const again = await deliver(report);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true });
    expect(refundCallsOf(intentId).length).toBe(1);
    expect((await operatorEntries(renewalId)).length).toBe(1);

    // Stripe's own report of that refund books nothing either.
    const reported = await deliver(event('event-refund-created', refund));
    expect(reported.statusCode).toBe(200);
    expect(await booked(renewalId)).toEqual({ ledger: 0, refunds: 0, invoices: 0 });
  });

  test('a Checkout session paid after its order failed and was replaced is refunded; the new order is untouched', async () => {
    store.clock.set(START);
    const bought = await checkoutRequest(store, {
      productId: 'gizmo',
      planId: 'standard',
      email: `buyer-${randomUUID()}@example.com`,
      provider: 'stripe',
    });
    expect(bought.statusCode).toBe(201);
    const firstId: string = bought.json().order.id;
    const licenseId: string = bought.json().license.id;
    // Stripe reports the session expired unpaid: the order fails.
    const expired = await deliver(
      event('event-checkout-session-expired', {
        client_reference_id: firstId,
        metadata: { order_id: firstId },
        amount_total: 3000,
      }),
    );
    expect(expired.json()).toMatchObject({ order: { id: firstId, status: 'failed' } });

    // The customer pays it again in the portal: a new order, on a new page.
    store.clock.advance(60_000);
    const browser = new PageClient(store, { remoteAddress: '10.9.1.1' });
    await browser.submit('/portal', '/portal/sign-in', { licenseKey: bought.json().license.key });
    const pay = await browser.submit('/portal/pay', '/portal/pay', {});
    expect(pay.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    const purchases = await store.db.query<{ id: string; status: string }>(
      "SELECT id, status FROM orders WHERE license_id = $1 AND kind = 'purchase' ORDER BY created_at, id",
      [licenseId],
    );
    expect(purchases.map((order) => order.status)).toEqual(['failed', 'pending']);
    const replacementId = purchases[1]!.id;

    // Then Stripe reports the first session paid after all.
    const intentId = `pi_late${suffix()}`;
    stripe.paymentIntents.set(intentId, {
      ...stripeFixture('payment-intent'),
      id: intentId,
      amount: 3000,
      amount_received: 3000,
      metadata: { order_id: firstId },
    });
    const late = await deliver(
      event('event-checkout-session-completed', {
        client_reference_id: firstId,
        metadata: { order_id: firstId },
        amount_total: 3000,
        amount_subtotal: 3000,
        payment_intent: intentId,
      }),
    );
    expect(late.statusCode).toBe(200);
    expect(late.json()).toMatchObject({ ignored: false, order: { id: firstId, status: 'failed' } });
    expect(refundCallsOf(intentId).length).toBe(1);
    expect(await stripeRefundOf(intentId)).toMatchObject({ amount: 3000 });

    expect((await orderOf(firstId)).status).toBe('failed');
    expect(await booked(firstId)).toEqual({ ledger: 0, refunds: 0, invoices: 0 });
    expect((await orderOf(replacementId)).status).toBe('pending');
    expect(await booked(replacementId)).toEqual({ ledger: 0, refunds: 0, invoices: 0 });
    expect(await licenseStatus(licenseId)).toBe('pending');
  });

  test('Stripe unreachable for the refund: 502 and nothing recorded; the redelivery refunds once', async () => {
    const { renewalId, intent } = await cancelledRenewalWithChargeTaken();
    const intentId = intent.id as string;
    const report = event('event-payment-intent-succeeded', { ...intent, status: 'succeeded' });
    stripe.failNext(500, 'error-api', 1, refundsCall);
    const down = await deliver(report);
    expect(down.statusCode).toBe(502);
    expect(down.json().error).toMatchObject({ code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
    expect(await recorded(report.id)).toBe(false);
    expect(await operatorEntries(renewalId)).toEqual([]);
    expect(await stripeRefundOf(intentId)).toBeUndefined();

    const again = await deliver(report);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: false, order: { status: 'cancelled' } });
    expect(await recorded(report.id)).toBe(true);
    expect(await stripeRefundOf(intentId)).toMatchObject({ amount: 3000 });
    expect(await stripeRefundsOf(intentId)).toHaveLength(1);
  });

  test('a payment already refunded at Stripe (the dashboard) counts as returned', async () => {
    const { renewalId, intent } = await cancelledRenewalWithChargeTaken();
    const intentId = intent.id as string;
    stripe.addRefund({
      ...stripeFixture('refund'),
      id: `re_dashboard${suffix()}`,
      amount: 3000,
      payment_intent: intentId,
      charge: `ch_${intentId.replace(/^pi_/, '')}`,
    });
    const report = event('event-payment-intent-succeeded', { ...intent, status: 'succeeded' });
    const answer = await deliver(report);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ duplicate: false, order: { status: 'cancelled' } });
    // Asked, and refused as already refunded: no second refund.
    expect(refundCallsOf(intentId).length).toBe(1);
    expect(await stripeRefundsOf(intentId)).toHaveLength(1);
    expect(await recorded(report.id)).toBe(true);
    expect((await operatorEntries(renewalId))[0]).toMatchObject({
      detail: { paymentIntent: intentId, stripeRefund: null },
    });
  });

  test('a refused renewal whose PaymentIntent succeeds later is refunded; the refund report books nothing', async () => {
    const { licenseId, customer } = await boughtOnCheckout();
    // The bank wants the customer to confirm the off-session charge: the renewal fails.
    store.clock.set(PERIOD_END + 1000);
    stripe.failNext(
      402,
      'error-card-authentication-required',
      1,
      (r) => r.path === '/v1/payment_intents' && r.form.get('customer') === customer,
    );
    await runBillingCycle(context(store), store.clock.now());
    const { renewalId, intent } = await renewalOf(licenseId);
    const intentId = intent.id as string;
    expect(await orderOf(renewalId)).toEqual({ status: 'failed', provider_ref: intentId });

    // The customer confirms it with their bank after all: Stripe takes the money.
    Object.assign(intent, { status: 'succeeded', amount: 3000, amount_received: 3000 });
    const answer = await deliver(event('event-payment-intent-succeeded', intent));
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ order: { id: renewalId, status: 'failed' } });
    const refund = (await stripeRefundOf(intentId))!;
    expect(refund).toMatchObject({ amount: 3000 });
    expect(await licenseStatus(licenseId)).toBe('past_due');

    // The order names that PaymentIntent: Stripe's reports of the refund find it, and book
    // nothing on an order never booked paid.
    const created = await deliver(event('event-refund-created', refund));
    expect(created.statusCode).toBe(200);
    const charged = await deliver(
      event('event-charge-refunded', { id: refund.charge, payment_intent: intentId }),
    );
    expect(charged.statusCode).toBe(200);
    expect(await booked(renewalId)).toEqual({ ledger: 0, refunds: 0, invoices: 0 });
    expect((await orderOf(renewalId)).status).toBe('failed');
  });

  type FixtureRefund = Stripe.Refund & Record<string, unknown>;
  /** The refunds Stripe holds for a PaymentIntent (listed as the SDK lists them). */
  async function stripeRefundsOf(intentId: string): Promise<FixtureRefund[]> {
    const response = await fetch(`${stripe.base}/v1/refunds?charge=ch_${intentId.slice(3)}`);
    return ((await response.json()) as { data: FixtureRefund[] }).data;
  }
  async function stripeRefundOf(intentId: string): Promise<FixtureRefund | undefined> {
    return (await stripeRefundsOf(intentId))[0];
  }
});
