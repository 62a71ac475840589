import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../lib/clock.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { runBillingCycle } from '../services/billing.js';
import type { TestStore } from '../testing/harness.js';
import { postgresUnavailable } from '../testing/harness.js';
import {
  checkoutRequest,
  context,
  DAY_MS,
  eventsOf,
  keyPost,
  subscribeToEvents,
} from '../testing/licensing.js';
import { accessibilityProblems, formFields, PageClient, textOf } from '../testing/pages.js';
import {
  deliverStripeEvent,
  startStripeTestStore,
  stripeEvent,
} from '../testing/stripe-webhooks.js';
import type { RecordedStripeRequest, StripeFixtureServer } from './stripe-fixture-server.js';
import { stripeFixture } from './stripe-fixture-server.js';

/**
 * Renewals and plan changes of a Stripe license, charged off session with the card saved
 * at the first Checkout (payments/stripe-off-session.ts), against the fixture server.
 */

const WEBHOOK_SECRET = `whsec_${Buffer.from('the stripe renewals webhook secret').toString('base64')}`;
// April has 30 days: a monthly period bought on April 1 ends on May 1.
const START = Date.UTC(2026, 3, 1);
const PERIOD_END = Date.UTC(2026, 4, 1);

describe.skipIf(postgresUnavailable)('Stripe off-session renewals and plan changes', () => {
  let stripe: StripeFixtureServer;
  let store: TestStore;

  beforeAll(async () => {
    ({ store, stripe } = await startStripeTestStore(START, WEBHOOK_SECRET));
    await subscribeToEvents(store);
    const catalogue = catalogueRepository(store.db, 'http://store.test');
    await catalogue.upsertProduct({ id: 'widget', name: 'Widget' });
    for (const [id, amount, position] of [
      ['basic', 3000, 1],
      ['plus', 6000, 2],
    ] as const) {
      await catalogue.upsertPlan('widget', {
        id,
        name: id,
        price: { amount, currency: 'USD' },
        interval: 'month',
        position,
      });
    }
  });
  afterAll(async () => {
    await store?.close();
    await stripe?.close();
  });

  const deliver = (event: unknown) => deliverStripeEvent(store, WEBHOOK_SECRET, event);

  const event = stripeEvent;

  const orderRow = async (id: string) =>
    (
      await store.db.query<{ status: string; provider_ref: string | null; kind: string }>(
        'SELECT status, provider_ref, kind FROM orders WHERE id = $1',
        [id],
      )
    )[0]!;
  const licenseRow = async (id: string) =>
    (
      await store.db.query<{ status: string; plan_id: string; period_end: Date }>(
        'SELECT status, plan_id, period_end FROM licenses WHERE id = $1',
        [id],
      )
    )[0]!;
  const ordersOf = async (licenseId: string, kind: string) =>
    store.db.query<{ id: string; status: string; amount_minor: number | string }>(
      'SELECT id, status, amount_minor FROM orders WHERE license_id = $1 AND kind = $2 ORDER BY created_at, id',
      [licenseId, kind],
    );
  const intentCalls = (orderId: string) =>
    stripe.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.path === '/v1/payment_intents' &&
        r.form.get('metadata[order_id]') === orderId,
    );
  const intentsOf = (orderId: string) =>
    [...stripe.paymentIntents.values()].filter(
      (intent) => (intent.metadata as { order_id?: string }).order_id === orderId,
    );
  /** The PaymentIntents charged to one buyer's card (other tests' renewals run too). */
  const cardOf = (bought: { card: { customer: string } }) => (r: RecordedStripeRequest) =>
    r.path === '/v1/payment_intents' && r.form.get('customer') === bought.card.customer;
  /** The Checkout Sessions opened for this buyer (a page to pay an order again). */
  const pageOf = (bought: { card: { customer: string } }) => (r: RecordedStripeRequest) =>
    r.path === '/v1/checkout/sessions' && r.form.get('customer') === bought.card.customer;
  const succeeded = (intent: Record<string, unknown>) =>
    event('event-payment-intent-succeeded', { ...intent, status: 'succeeded' });

  /**
   * A Stripe purchase paid on Checkout: the session asks Stripe to save the card, and
   * `checkout.session.completed` records the customer's Stripe ids.
   */
  async function purchase(email = `buyer-${randomUUID()}@example.com`) {
    store.clock.set(START);
    const answer = await checkoutRequest(store, {
      productId: 'widget',
      planId: 'basic',
      email,
      provider: 'stripe',
    });
    expect(answer.statusCode).toBe(201);
    const body = answer.json();
    const orderId: string = body.order.id;
    const session = stripe.requests
      .filter((r) => r.path === '/v1/checkout/sessions' && r.form.get('client_reference_id'))
      .at(-1)!;
    expect(session.form.get('client_reference_id')).toBe(orderId);
    expect(session.form.get('payment_intent_data[setup_future_usage]')).toBe('off_session');

    const suffix = randomUUID().replace(/-/g, '').slice(0, 14);
    const card = { customer: `cus_${suffix}`, paymentMethod: `pm_${suffix}` };
    // The PaymentIntent Checkout created (the fixture server answers it on GET).
    const checkoutIntent = `pi_checkout${suffix}`;
    stripe.paymentIntents.set(checkoutIntent, {
      ...stripeFixture('payment-intent'),
      id: checkoutIntent,
      amount: 3000,
      amount_received: 3000,
      customer: card.customer,
      payment_method: card.paymentMethod,
      setup_future_usage: 'off_session',
      metadata: { order_id: orderId },
    });
    const paid = await deliver(
      event('event-checkout-session-completed', {
        client_reference_id: orderId,
        metadata: { order_id: orderId },
        amount_total: 3000,
        amount_subtotal: 3000,
        payment_intent: checkoutIntent,
        customer: card.customer,
      }),
    );
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ order: { status: 'paid' } });
    // Stripe's ids only: no card data is kept.
    const [saved] = await store.db.query<Record<string, unknown>>(
      'SELECT stripe_customer, payment_method, order_id FROM stripe_payment_methods WHERE customer_id = (SELECT customer_id FROM orders WHERE id = $1)',
      [orderId],
    );
    expect(saved).toEqual({
      stripe_customer: card.customer,
      payment_method: card.paymentMethod,
      order_id: orderId,
    });
    return {
      licenseId: body.license.id as string,
      key: body.license.key as string,
      email,
      card,
    };
  }

  async function renewAtPeriodEnd(licenseId: string) {
    store.clock.set(PERIOD_END + 1000);
    const summary = await runBillingCycle(context(store), store.clock.now());
    expect(summary.failed).toBe(0);
    const [renewal] = await ordersOf(licenseId, 'renewal');
    expect(renewal).toBeDefined();
    return renewal!.id;
  }

  test('the billing job renews off session; payment_intent.succeeded pays the renewal', async () => {
    const bought = await purchase();
    const renewalId = await renewAtPeriodEnd(bought.licenseId);

    // What the SDK sent: the saved card, off session, the order id as idempotency key.
    const calls = intentCalls(renewalId);
    expect(calls.length).toBe(1);
    expect(calls[0]!.headers['idempotency-key']).toBe(renewalId);
    expect(Object.fromEntries(calls[0]!.form)).toMatchObject({
      amount: '3000',
      currency: 'usd',
      customer: bought.card.customer,
      payment_method: bought.card.paymentMethod,
      off_session: 'true',
      confirm: 'true',
      'metadata[order_id]': renewalId,
    });
    const [intent] = intentsOf(renewalId);
    // Pending until Stripe's webhook; the order now names its PaymentIntent.
    expect(await orderRow(renewalId)).toMatchObject({
      status: 'pending',
      provider_ref: intent!.id,
    });
    expect((await licenseRow(bought.licenseId)).status).toBe('past_due');

    const paid = await deliver(succeeded(intent!));
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({
      duplicate: false,
      ignored: false,
      order: { id: renewalId, kind: 'renewal', status: 'paid', amount: 3000 },
    });
    const license = await licenseRow(bought.licenseId);
    expect(license.status).toBe('active');
    expect(new Date(license.period_end).toISOString()).toBe('2026-06-01T00:00:00.000Z');
    const renewed = (await eventsOf(store, bought.licenseId)).filter(
      (e) => e.type === 'license.renewed',
    );
    expect(renewed.length).toBe(1);
    const invoices = await store.db.query(
      "SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [renewalId],
    );
    expect(invoices.length).toBe(1);
    const ledger = await store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ledger_lines WHERE order_id = $1',
      [renewalId],
    );
    expect(ledger[0]!.n).toBeGreaterThan(0);

    // Another delivery of the same success (a new event id) changes nothing.
    const again = await deliver(succeeded(intent!));
    expect(again.json()).toMatchObject({ ignored: true, order: { status: 'paid' } });
    expect(
      (
        await store.db.query("SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'", [
          renewalId,
        ])
      ).length,
    ).toBe(1);
    // A later run sends nothing for a paid order.
    await runBillingCycle(context(store), store.clock.now());
    expect(intentCalls(renewalId).length).toBe(1);
  });

  test('a success for another sum than the order is refused', async () => {
    const bought = await purchase();
    const renewalId = await renewAtPeriodEnd(bought.licenseId);
    const [intent] = intentsOf(renewalId);
    const wrong = await deliver(succeeded({ ...intent!, amount: 100, amount_received: 100 }));
    expect(wrong.statusCode).toBe(409);
    expect((await orderRow(renewalId)).status).toBe('pending');
  });

  test('payment_intent.payment_failed fails the renewal the way a failed renewal goes', async () => {
    const bought = await purchase();
    const renewalId = await renewAtPeriodEnd(bought.licenseId);
    const [intent] = intentsOf(renewalId);
    const failed = await deliver(
      event('event-payment-intent-payment-failed', {
        id: intent!.id,
        amount: 3000,
        currency: 'usd',
        metadata: { order_id: renewalId },
      }),
    );
    expect(failed.statusCode).toBe(200);
    expect(failed.json()).toMatchObject({ order: { id: renewalId, status: 'failed' } });
    expect((await licenseRow(bought.licenseId)).status).toBe('past_due');
    const types = (await eventsOf(store, bought.licenseId)).map((e) => e.type);
    expect(types.filter((type) => type === 'license.payment_failed').length).toBe(1);
    expect(types).not.toContain('license.renewed');
    // The failed order is not sent again.
    await runBillingCycle(context(store), store.clock.now());
    expect(intentCalls(renewalId).length).toBe(1);
  });

  test('authentication_required at once: the order fails and the webhook changes nothing more', async () => {
    const bought = await purchase();
    stripe.failNext(402, 'error-card-authentication-required', 1, cardOf(bought));
    const renewalId = await renewAtPeriodEnd(bought.licenseId);
    const [intent] = intentsOf(renewalId);
    expect(intent).toMatchObject({ status: 'requires_payment_method' });
    expect(await orderRow(renewalId)).toMatchObject({ status: 'failed', provider_ref: intent!.id });
    expect((await licenseRow(bought.licenseId)).status).toBe('past_due');
    const failedEvents = async () =>
      (await eventsOf(store, bought.licenseId)).filter((e) => e.type === 'license.payment_failed');
    expect((await failedEvents()).length).toBe(1);

    const reported = await deliver(
      event('event-payment-intent-payment-failed', {
        id: intent!.id,
        metadata: { order_id: renewalId },
      }),
    );
    expect(reported.statusCode).toBe(200);
    expect(reported.json()).toMatchObject({ ignored: true, order: { status: 'failed' } });
    expect((await failedEvents()).length).toBe(1);
  });

  test('a renewal the bank wants confirmed is paid from the portal on Checkout, never also off session', async () => {
    const bought = await purchase();
    stripe.failNext(402, 'error-card-authentication-required', 1, cardOf(bought));
    const refusedId = await renewAtPeriodEnd(bought.licenseId);
    expect((await orderRow(refusedId)).status).toBe('failed');
    // The app's 402 and the mail link to the portal's pay page, not to a new purchase.
    const refresh = await keyPost(store, '/v1/licenses/refresh', bought.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().checkoutUrl).toBe('http://store.test/portal/pay');

    const browser = new PageClient(store, { remoteAddress: '10.9.0.1' });
    expect((await browser.get('/portal/pay')).headers.location).toBe('/portal?next=pay');
    const signIn = await browser.submit('/portal?next=pay', '/portal/sign-in', {
      licenseKey: bought.key,
    });
    expect(signIn.headers.location).toBe('/portal/pay');
    const license = await browser.get('/portal/license');
    expect(textOf(license.body)).toContain('Pay the renewal');
    const page = await browser.get('/portal/pay');
    expect(page.statusCode).toBe(200);
    expect(accessibilityProblems(page.body)).toEqual([]);
    expect(textOf(page.body)).toContain('$30.00');
    expect(textOf(page.body)).toContain('the payment was refused');

    // The customer pays a minute after the refusal.
    store.clock.advance(60_000);
    const pay = await browser.post('/portal/pay', formFields(page.body, '/portal/pay'));
    expect(pay.statusCode).toBe(303);
    expect(pay.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const renewals = await ordersOf(bought.licenseId, 'renewal');
    expect(renewals.map((order) => order.status)).toEqual(['failed', 'pending']);
    const retryId = renewals[1]!.id;
    const session = stripe.requests
      .filter(
        (r) => r.path === '/v1/checkout/sessions' && r.form.get('client_reference_id') === retryId,
      )
      .at(-1)!;
    expect(session.headers['idempotency-key']).toBe(retryId);
    expect(Object.fromEntries(session.form)).toMatchObject({
      customer: bought.card.customer,
      'line_items[0][price_data][unit_amount]': '3000',
      cancel_url: 'http://store.test/portal/pay',
      success_url: 'http://store.test/portal/license?checkout=paid',
      // The page takes payment for an hour after the order was placed, and no longer.
      expires_at: String(seconds(store.clock.now()) + 3600),
    });
    const [details] = await store.db.query<{ details: Record<string, unknown> }>(
      'SELECT details FROM orders WHERE id = $1',
      [retryId],
    );
    expect(details!.details).toMatchObject({
      retryOf: refusedId,
      paymentPage: true,
      periodStart: '2026-05-01T00:00:00.000Z',
      periodEnd: '2026-06-01T00:00:00.000Z',
    });

    // The billing job leaves it to the customer: no off-session charge of the same order.
    await runBillingCycle(context(store), store.clock.now());
    expect(intentCalls(retryId).length).toBe(0);
    // Paying again (back from Checkout, another tab) opens the same order's session.
    const again = await browser.post('/portal/pay', formFields(page.body, '/portal/pay'));
    expect(again.headers.location).toBe(pay.headers.location);
    expect((await ordersOf(bought.licenseId, 'renewal')).length).toBe(2);
    expect(textOf((await browser.get('/portal/pay')).body)).toContain(
      'Continue to the payment page',
    );

    const checkoutIntent = `pi_retry${randomUUID().replace(/-/g, '').slice(0, 14)}`;
    stripe.paymentIntents.set(checkoutIntent, {
      ...stripeFixture('payment-intent'),
      id: checkoutIntent,
      amount: 3000,
      customer: bought.card.customer,
      payment_method: 'pm_anotherCard',
      setup_future_usage: 'off_session',
      metadata: { order_id: retryId },
    });
    // A card declined on the Checkout page is Checkout's business: the customer may try
    // another there, so the order stays pending until the session reports.
    const declined = await deliver(
      event('event-payment-intent-payment-failed', {
        id: checkoutIntent,
        amount: 3000,
        currency: 'usd',
        metadata: { order_id: retryId },
      }),
    );
    expect(declined.json()).toMatchObject({ ignored: true, order: { status: 'pending' } });
    expect((await orderRow(retryId)).status).toBe('pending');
    const paid = await deliver(
      event('event-checkout-session-completed', {
        client_reference_id: retryId,
        metadata: { order_id: retryId },
        amount_total: 3000,
        amount_subtotal: 3000,
        payment_intent: checkoutIntent,
        customer: bought.card.customer,
      }),
    );
    expect(paid.json()).toMatchObject({ order: { id: retryId, kind: 'renewal', status: 'paid' } });
    // Active again for the period the refused renewal was for; the new card pays the next.
    const row = await licenseRow(bought.licenseId);
    expect(row.status).toBe('active');
    expect(new Date(row.period_end).toISOString()).toBe('2026-06-01T00:00:00.000Z');
    const [card] = await store.db.query<{ payment_method: string }>(
      'SELECT payment_method FROM stripe_payment_methods WHERE stripe_customer = $1',
      [bought.card.customer],
    );
    expect(card!.payment_method).toBe('pm_anotherCard');
    const invoices = await store.db.query(
      "SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [retryId],
    );
    expect(invoices.length).toBe(1);
    expect((await keyPost(store, '/v1/licenses/refresh', bought.key, {})).statusCode).toBe(200);
    const done = await browser.post('/portal/pay', formFields(page.body, '/portal/pay'));
    expect(done.headers.location).toBe('/portal/license?done=nothing-due');
  });

  test('a renewal no saved card can pay is paid from the portal, not left for an admin', async () => {
    const bought = await purchase();
    // Bought before cards were saved (or with a method that saved none).
    await store.db.query('DELETE FROM stripe_payment_methods WHERE stripe_customer = $1', [
      bought.card.customer,
    ]);
    const stuckId = await renewAtPeriodEnd(bought.licenseId);
    expect(await orderRow(stuckId)).toMatchObject({ status: 'pending' });
    expect(intentCalls(stuckId).length).toBe(0);

    store.clock.advance(60_000);
    const browser = new PageClient(store, { remoteAddress: '10.9.0.3' });
    await browser.submit('/portal', '/portal/sign-in', { licenseKey: bought.key });
    const page = await browser.get('/portal/pay');
    expect(textOf(page.body)).toContain('Not paid: there is no saved card to charge');
    const pay = await browser.post('/portal/pay', formFields(page.body, '/portal/pay'));
    expect(pay.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    const renewals = await ordersOf(bought.licenseId, 'renewal');
    // One order stays payable: the stuck one failed (no mail: the customer is here).
    expect(renewals.map((order) => [order.id === stuckId, order.status])).toEqual([
      [true, 'failed'],
      [false, 'pending'],
    ]);
    const failures = (await eventsOf(store, bought.licenseId)).filter(
      (e) => e.type === 'license.payment_failed',
    );
    expect(failures.length).toBe(0);
    await runBillingCycle(context(store), store.clock.now());
    expect(intentCalls(renewals[1]!.id).length).toBe(0);
    expect(intentCalls(stuckId).length).toBe(0);
  });

  /**
   * A license whose renewal the bank refused (it wants the charge confirmed), and a portal
   * sign-in of its customer from `address`.
   */
  async function refusedRenewal(address: string) {
    const bought = await purchase();
    stripe.failNext(402, 'error-card-authentication-required', 1, cardOf(bought));
    await renewAtPeriodEnd(bought.licenseId);
    const signIn = async () => {
      const browser = new PageClient(store, { remoteAddress: address });
      await browser.submit('/portal', '/portal/sign-in', { licenseKey: bought.key });
      return browser;
    };
    return { bought, signIn };
  }

  test('an overdue payment page blocks cancelling for its hour; expired, it is paid anew', async () => {
    const { bought, signIn } = await refusedRenewal('10.9.0.2');
    store.clock.advance(60_000);
    let browser = await signIn();
    const first = await browser.submit('/portal/pay', '/portal/pay', {});
    expect(first.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\//);

    // Cancelling would cancel the order the open page still takes money for.
    const cancel = () => keyPost(store, '/v1/licenses/cancel', bought.key, {});
    const refused = await cancel();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'PLAN_CHANGE_INVALID' });
    expect(refused.json().error.message).toContain('being paid on the payment page');

    // Ten minutes before the page's hour ends, and ten after (the margin for the clocks),
    // a click still opens the same page: Stripe might take a payment there yet.
    store.clock.advance(3_000_000);
    browser = await signIn();
    const late = await browser.submit('/portal/pay', '/portal/pay', {});
    expect(late.headers.location).toBe(first.headers.location);
    expect((await cancel()).statusCode).toBe(409);
    store.clock.advance(1_140_000);
    expect((await cancel()).statusCode).toBe(409);

    // Past that the page has expired unpaid (Stripe's report of it not in yet): a click
    // places a new order, with a new page, and the expired one fails without a mail.
    store.clock.advance(60_000);
    browser = await signIn();
    expect(textOf((await browser.get('/portal/pay')).body)).toContain('Pay now');
    const second = await browser.submit('/portal/pay', '/portal/pay', {});
    expect(second.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect(second.headers.location).not.toBe(first.headers.location);
    const renewals = await ordersOf(bought.licenseId, 'renewal');
    expect(renewals.map((order) => order.status)).toEqual(['failed', 'failed', 'pending']);
    const failures = (await eventsOf(store, bought.licenseId)).filter(
      (e) => e.type === 'license.payment_failed',
    );
    expect(failures.length).toBe(1);

    // Past that page's hour (and margin) too, the customer may cancel; the unpaid order is
    // cancelled.
    store.clock.advance(4_200_000);
    const cancelled = await cancel();
    expect(cancelled.statusCode).toBe(200);
    expect((await orderRow(renewals[2]!.id)).status).toBe('cancelled');
  });

  test('a pay-again page Stripe could not open in time is paid anew, not refused until its hour ends', async () => {
    const { bought, signIn } = await refusedRenewal('10.9.0.3');
    const pages = pageOf(bought);
    // Stripe is down when the customer clicks: the new order waits, with no page yet.
    store.clock.advance(60_000);
    stripe.failNext(500, 'error-api', 1, pages);
    const first = await signIn();
    const down = await first.submit('/portal/pay', '/portal/pay', {});
    expect(down.headers.location).toBe('/portal/pay?done=unavailable');
    const told = textOf((await first.get(down.headers.location as string)).body);
    expect(told).toContain('The payment service could not be reached, so nothing was charged');
    expect(told).toContain('Continue to the payment page');
    let renewals = await ordersOf(bought.licenseId, 'renewal');
    expect(renewals.map((order) => order.status)).toEqual(['failed', 'pending']);

    // Within the first half hour a click opens that order's page (it can still live 30
    // minutes, Stripe's least).
    store.clock.advance(20 * 60_000);
    const browser = await signIn();
    expect(textOf((await browser.get('/portal/pay')).body)).toContain(
      'Continue to the payment page',
    );
    // The click could still open a page that takes money: no cancelling meanwhile.
    const cancel = await keyPost(store, '/v1/licenses/cancel', bought.key, {});
    expect(cancel.statusCode).toBe(409);
    const calls = stripe.requests.filter(pages).length;
    stripe.failNext(500, 'error-api', 1, pages);
    expect((await browser.submit('/portal/pay', '/portal/pay', {})).headers.location).toBe(
      '/portal/pay?done=unavailable',
    );
    expect(stripe.requests.filter(pages).length).toBe(calls + 1);

    // Later, Stripe would refuse a page ending at the order's hour (its first opening had no
    // answer, so no customer has its address): the order fails and a new one gets a page.
    store.clock.advance(20 * 60_000);
    const late = await signIn();
    expect(textOf((await late.get('/portal/pay')).body)).toContain('Pay now');
    const paying = await late.submit('/portal/pay', '/portal/pay', {});
    expect(paying.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    renewals = await ordersOf(bought.licenseId, 'renewal');
    expect(renewals.map((order) => order.status)).toEqual(['failed', 'failed', 'pending']);
    const [placed] = await store.db.query<{ details: Record<string, unknown> }>(
      'SELECT details FROM orders WHERE id = $1',
      [renewals[2]!.id],
    );
    expect(placed!.details).toMatchObject({ retryOf: renewals[1]!.id, paymentPage: true });
  });

  test('a license whose pay-again page was never opened can be cancelled once none can be', async () => {
    const { bought, signIn } = await refusedRenewal('10.9.0.4');
    store.clock.advance(60_000);
    stripe.failNext(500, 'error-api', 1, pageOf(bought));
    expect((await (await signIn()).submit('/portal/pay', '/portal/pay', {})).headers.location).toBe(
      '/portal/pay?done=unavailable',
    );
    const [, waiting] = await ordersOf(bought.licenseId, 'renewal');
    expect(waiting!.status).toBe('pending');
    // 40 minutes after that order (Stripe's least page life and the clocks' margin), no
    // page can be opened for it any more, and none was: cancelling cancels it.
    store.clock.advance(40 * 60_000);
    const cancelled = await keyPost(store, '/v1/licenses/cancel', bought.key, {});
    expect(cancelled.statusCode).toBe(200);
    expect((await orderRow(waiting!.id)).status).toBe('cancelled');
  });

  test('an upgrade on a Stripe license is charged off session and applied when paid', async () => {
    const bought = await purchase();
    store.clock.set(START + 20 * DAY_MS); // 10 of 30 days left: (6000 - 3000) / 3
    const applied = await keyPost(store, '/v1/licenses/plan', bought.key, {
      planId: 'plus',
      confirm: true,
    });
    expect(applied.statusCode).toBe(200);
    const order = applied.json().order;
    expect(order).toMatchObject({ kind: 'upgrade', status: 'pending', amount: 1000 });
    const calls = intentCalls(order.id);
    expect(calls.length).toBe(1);
    expect(calls[0]!.headers['idempotency-key']).toBe(order.id);
    expect(Object.fromEntries(calls[0]!.form)).toMatchObject({
      amount: '1000',
      customer: bought.card.customer,
      payment_method: bought.card.paymentMethod,
      off_session: 'true',
      confirm: 'true',
    });
    expect((await licenseRow(bought.licenseId)).plan_id).toBe('basic');
    const [intent] = intentsOf(order.id);
    const paid = await deliver(succeeded(intent!));
    expect(paid.json()).toMatchObject({ order: { kind: 'upgrade', status: 'paid' } });
    expect((await licenseRow(bought.licenseId)).plan_id).toBe('plus');
  });

  test('a declined upgrade answers a failed order and leaves the plan', async () => {
    const bought = await purchase();
    store.clock.set(START + 20 * DAY_MS);
    stripe.failNext(402, 'error-card-authentication-required', 1, cardOf(bought));
    const applied = await keyPost(store, '/v1/licenses/plan', bought.key, {
      planId: 'plus',
      confirm: true,
    });
    expect(applied.statusCode).toBe(200);
    expect(applied.json().order).toMatchObject({ kind: 'upgrade', status: 'failed' });
    expect((await licenseRow(bought.licenseId)).plan_id).toBe('basic');
  });

  test('Stripe down, then an answer lost after Stripe charged: the job retries and pays once', async () => {
    const bought = await purchase();
    // Other tests' licenses renew in the same runs: only this buyer's calls fail.
    const mine = cardOf(bought);
    // The first call after the commit finds Stripe down.
    stripe.failNext(500, 'error-api', 1, mine);
    const renewalId = await renewAtPeriodEnd(bought.licenseId);
    expect(intentCalls(renewalId).length).toBe(1);
    expect(intentsOf(renewalId).length).toBe(0);
    expect(await orderRow(renewalId)).toMatchObject({ status: 'pending', provider_ref: renewalId });

    // The next run's call reaches Stripe, which charges, but the answer never arrives.
    // (The SDK sends once more on a connection closed before an answer: both are lost.)
    stripe.dropNext(mine);
    stripe.dropNext(mine);
    await runBillingCycle(context(store), store.clock.now());
    expect(intentCalls(renewalId).length).toBe(3);
    expect(intentsOf(renewalId).length).toBe(1);
    expect((await orderRow(renewalId)).provider_ref).toBe(renewalId);

    // The third run: the same idempotency key gets the same PaymentIntent back.
    await runBillingCycle(context(store), store.clock.now());
    const calls = intentCalls(renewalId);
    expect(calls.length).toBe(4);
    expect(new Set(calls.map((call) => call.headers['idempotency-key']))).toEqual(
      new Set([renewalId]),
    );
    const intents = intentsOf(renewalId);
    expect(intents.length).toBe(1);
    expect((await orderRow(renewalId)).provider_ref).toBe(intents[0]!.id);

    // Referenced now: no further call.
    await runBillingCycle(context(store), store.clock.now());
    expect(intentCalls(renewalId).length).toBe(4);
    expect((await deliver(succeeded(intents[0]!))).json()).toMatchObject({
      order: { status: 'paid' },
    });
    const booked = await store.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [renewalId],
    );
    expect(booked[0]!.n).toBe(1);
  });

  test('a later Checkout of the same buyer reuses their Stripe customer', async () => {
    const bought = await purchase();
    const answer = await checkoutRequest(store, {
      productId: 'widget',
      planId: 'plus',
      email: bought.email,
      provider: 'stripe',
    });
    expect(answer.statusCode).toBe(201);
    const session = stripe.requests.filter((r) => r.path === '/v1/checkout/sessions').at(-1)!;
    expect(session.form.get('client_reference_id')).toBe(answer.json().order.id);
    expect(session.form.get('customer')).toBe(bought.card.customer);
    expect(session.form.get('customer_email')).toBeNull();
    expect(session.form.get('customer_creation')).toBeNull();
  });

  test('a Checkout purchase’s own PaymentIntent events are left to the session events', async () => {
    store.clock.set(START);
    const answer = await checkoutRequest(store, {
      productId: 'widget',
      planId: 'basic',
      email: `buyer-${randomUUID()}@example.com`,
      provider: 'stripe',
    });
    const orderId = answer.json().order.id;
    const declined = await deliver(
      event('event-payment-intent-payment-failed', { metadata: { order_id: orderId } }),
    );
    expect(declined.json()).toMatchObject({ ignored: true, order: { status: 'pending' } });
    expect((await orderRow(orderId)).status).toBe('pending');
  });
});
