import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.js';
import { licensingConfig } from '../config-licensing.js';
import { seconds } from '../lib/clock.js';
import { licensesRepository } from '../repositories/licenses.js';
import { owedPayment, payOwed } from '../services/owed-payment.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { checkoutRequest, context, keyGet, keyPost } from '../testing/licensing.js';
import { formFields, PageClient, textOf } from '../testing/pages.js';
import { stripeConfig } from './stripe-config.js';
import type { StripeFixtureServer } from './stripe-fixture-server.js';
import { startStripeFixtureServer, stripeFixture } from './stripe-fixture-server.js';

const SECRET_KEY = 'sk_test_licensekitFixture0000';
const WEBHOOK_SECRET = `whsec_${Buffer.from('the stripe webhook secret of the tests').toString('base64')}`;
/** Stripe's own helper signs the test events, exactly as Stripe signs deliveries. */
const signer = new Stripe('sk_test_signerOnly0000').webhooks;
const WEBHOOK = '/v1/webhooks/payments/stripe';

describe('Stripe configuration', () => {
  test('both the key and the webhook secret, or neither', () => {
    expect(stripeConfig(undefined, {})).toBeUndefined();
    expect(() => stripeConfig(undefined, { STRIPE_SECRET_KEY: SECRET_KEY })).toThrow(
      /both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET/,
    );
    expect(() => stripeConfig(undefined, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET })).toThrow(
      /both/,
    );
    const config = stripeConfig(undefined, {
      STRIPE_SECRET_KEY: SECRET_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
    });
    expect(config).toMatchObject({
      secretKey: SECRET_KEY,
      webhookSecret: WEBHOOK_SECRET,
      api: { host: '127.0.0.1', port: 12111, protocol: 'http' },
    });
  });

  test('malformed values are refused without repeating them', () => {
    const bad = (env: NodeJS.ProcessEnv) => () =>
      stripeConfig(undefined, {
        STRIPE_SECRET_KEY: SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        ...env,
      });
    expect(bad({ STRIPE_SECRET_KEY: 'pk_test_publishable123456' })).toThrow(
      /^STRIPE_SECRET_KEY is not a Stripe secret key/,
    );
    expect(bad({ STRIPE_SECRET_KEY: 'pk_test_publishable123456' })).not.toThrow(/pk_test/);
    expect(bad({ STRIPE_WEBHOOK_SECRET: 'not-a-secret-at-all' })).toThrow(/whsec_/);
    expect(bad({ STRIPE_API_BASE: 'ftp://127.0.0.1' })).toThrow(/STRIPE_API_BASE/);
    expect(bad({ STRIPE_API_BASE: 'http://127.0.0.1:1/v1' })).toThrow(/without a path/);
    expect(bad({ STRIPE_API_BASE: 'not a url' })).toThrow(/STRIPE_API_BASE/);
    expect(bad({ STRIPE_API_BASE: 'https://[::1]' })()?.api).toEqual({
      host: '::1',
      port: 443,
      protocol: 'https',
    });
  });

  test('`stripe` cannot name a Standard Webhooks provider; no Stripe, no provider', () => {
    expect(() =>
      licensingConfig({ paymentWebhookSecrets: { stripe: WEBHOOK_SECRET } }, {}),
    ).toThrow(/cannot name a payment provider/);
    expect(loadConfig({}, {}).licensing.stripe).toBeUndefined();
  });
});

describe.skipIf(postgresUnavailable)('the Stripe provider', () => {
  let stripe: StripeFixtureServer;
  let store: TestStore;
  let clients = 0;

  beforeAll(async () => {
    stripe = await startStripeFixtureServer();
    store = await buildTestStore({
      storefrontProvider: 'stripe',
      licensing: {
        billing: { enabled: false },
        stripe: {
          secretKey: SECRET_KEY,
          webhookSecret: WEBHOOK_SECRET,
          apiBase: stripe.base,
          // The failure tests see the first answer; the SDK's retries are Stripe's business.
          maxNetworkRetries: 0,
          timeoutMs: 5_000,
        },
      },
    });
  });
  afterAll(async () => {
    await store?.close();
    await stripe?.close();
  });

  /** A signed delivery of `event` (its exact bytes), as Stripe would post it. */
  function deliver(
    event: unknown,
    options: {
      secret?: string;
      timestamp?: number;
      payload?: string;
      signature?: string | null;
    } = {},
  ) {
    const payload = options.payload ?? JSON.stringify(event);
    const signature =
      options.signature === undefined
        ? signer.generateTestHeaderString({
            payload,
            secret: options.secret ?? WEBHOOK_SECRET,
            timestamp: options.timestamp ?? seconds(store.clock.now()),
          })
        : options.signature;
    return store.app.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(signature !== null && { 'stripe-signature': signature }),
      },
      payload,
    });
  }

  /** A fixture event with a fresh id and `object` written over its data.object. */
  function event(name: string, object: Record<string, unknown> = {}) {
    const base = stripeFixture<{ id: string; data: { object: Record<string, unknown> } }>(name);
    return {
      ...base,
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      data: { object: { ...base.data.object, ...object } },
    };
  }

  function completed(orderId: string, paymentIntent: string, amount = 1500) {
    return event('event-checkout-session-completed', {
      client_reference_id: orderId,
      metadata: { order_id: orderId },
      amount_total: amount,
      amount_subtotal: amount,
      payment_intent: paymentIntent,
    });
  }

  async function checkoutStripe(
    idempotencyKey = randomUUID(),
    email = `buyer-${randomUUID()}@example.com`,
  ) {
    return checkoutRequest(
      store,
      { productId: 'photon', planId: 'pro-monthly', email, provider: 'stripe' },
      idempotencyKey,
    );
  }

  const sessionCalls = () =>
    stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
  const recordedEvents = async () =>
    Number(
      (
        await store.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM payment_webhook_events WHERE provider = 'stripe'",
        )
      )[0]?.n,
    );
  const orderRow = async (id: string) =>
    (
      await store.db.query<{ status: string; provider_ref: string | null }>(
        'SELECT status, provider_ref FROM orders WHERE id = $1',
        [id],
      )
    )[0]!;

  test('checkout → Checkout Session → signed webhook → paid, license issued', async () => {
    const before = sessionCalls().length;
    const answer = await checkoutStripe();
    expect(answer.statusCode).toBe(201);
    const body = answer.json();
    expect(body).toMatchObject({
      order: { status: 'pending', amount: 1500, currency: 'USD', test: true },
      license: { status: 'pending', test: true },
    });
    expect(body.license.token).toBeUndefined();
    expect(body.checkoutUrl).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const orderId: string = body.order.id;

    // What the SDK sent to "Stripe".
    const calls = sessionCalls();
    expect(calls.length).toBe(before + 1);
    const sent = calls.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(sent.headers['idempotency-key']).toBe(orderId);
    expect(sent.headers['stripe-version']).toBe('2025-10-29.clover');
    expect(Object.fromEntries(sent.form)).toMatchObject({
      mode: 'payment',
      client_reference_id: orderId,
      'metadata[order_id]': orderId,
      'payment_intent_data[metadata][order_id]': orderId,
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '1500',
      'line_items[0][price_data][product_data][name]': 'Photon — Pro',
      customer_email: expect.stringMatching(/^buyer-.+@example\.com$/),
      success_url: 'http://store.test/portal/license?checkout=paid',
      cancel_url: 'http://store.test/products/photon?plan=pro-monthly',
    });

    // Unpaid meanwhile: the license answers 402.
    expect((await keyPost(store, '/v1/licenses/refresh', body.license.key, {})).statusCode).toBe(
      402,
    );

    const paid = await deliver(completed(orderId, 'pi_paid0001'));
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toEqual({
      received: true,
      duplicate: false,
      ignored: false,
      order: expect.objectContaining({ id: orderId, status: 'paid' }),
    });
    expect(await orderRow(orderId)).toEqual({ status: 'paid', provider_ref: 'pi_paid0001' });
    expect((await keyGet(store, '/v1/licenses/status', body.license.key)).json().status).toBe(
      'active',
    );
    const refreshed = await keyPost(store, '/v1/licenses/refresh', body.license.key, {});
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().token).toEqual(expect.any(String));
    // The invoice of a paid order (marketplace/bookkeeping.ts, through settleOrder).
    const invoices = await store.db.query(
      "SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [orderId],
    );
    expect(invoices.length).toBe(1);
  });

  test('a replayed event is a duplicate; a new delivery of the same session changes nothing', async () => {
    const orderId = (await checkoutStripe()).json().order.id;
    const first = completed(orderId, 'pi_replay0001');
    expect((await deliver(first)).json()).toMatchObject({ duplicate: false, ignored: false });
    const events = await recordedEvents();
    const replay = await deliver(first);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ received: true, duplicate: true, ignored: false });
    expect(await recordedEvents()).toBe(events);
    // The same session reported again under a new event id: the order is paid already.
    const again = await deliver(completed(orderId, 'pi_replay0001'));
    expect(again.json()).toMatchObject({ duplicate: false, order: { status: 'paid' } });
    const invoices = await store.db.query(
      "SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [orderId],
    );
    expect(invoices.length).toBe(1);
  });

  test('bad, missing and old signatures are refused and nothing is recorded', async () => {
    const orderId = (await checkoutStripe()).json().order.id;
    const paidEvent = completed(orderId, 'pi_refused0001');
    const events = await recordedEvents();
    const refusals = [
      await deliver(paidEvent, {
        secret: `whsec_${Buffer.from('another secret').toString('base64')}`,
      }),
      await deliver(paidEvent, { signature: null }),
      await deliver(paidEvent, { signature: 't=1,v1=deadbeef' }),
      await deliver(paidEvent, { timestamp: seconds(store.clock.now()) - 301 }),
      // Signed bytes, other bytes sent: the signature covers the body exactly.
      await store.app.inject({
        method: 'POST',
        url: WEBHOOK,
        headers: {
          'content-type': 'application/json',
          'stripe-signature': signer.generateTestHeaderString({
            payload: JSON.stringify(paidEvent),
            secret: WEBHOOK_SECRET,
            timestamp: seconds(store.clock.now()),
          }),
        },
        payload: JSON.stringify(paidEvent, null, 2),
      }),
    ];
    for (const refused of refusals) {
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
      expect(refused.body).not.toContain(WEBHOOK_SECRET);
    }
    expect(await recordedEvents()).toBe(events);
    expect((await orderRow(orderId)).status).toBe('pending');
    // Within the tolerance it is accepted (the store's clock, not the machine's).
    expect(
      (await deliver(paidEvent, { timestamp: seconds(store.clock.now()) - 299 })).statusCode,
    ).toBe(200);
  });

  test('hostile bodies: oversized, malformed JSON with a valid-looking or valid signature', async () => {
    const events = await recordedEvents();
    const big = JSON.stringify({
      id: 'evt_big',
      type: 'customer.created',
      padding: 'x'.repeat(300 * 1024),
    });
    const oversized = await deliver(undefined, { payload: big });
    expect(oversized.statusCode).toBe(413);
    expect(oversized.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const malformed = '{"id":"evt_bad","type":"checkout.session.completed",';
    for (const signature of [
      `t=${seconds(store.clock.now())},v1=${'0'.repeat(64)}`,
      signer.generateTestHeaderString({
        payload: malformed,
        secret: WEBHOOK_SECRET,
        timestamp: seconds(store.clock.now()),
      }),
    ]) {
      const answer = await deliver(undefined, { payload: malformed, signature });
      expect(answer.statusCode).toBe(400);
      expect(answer.json().error.code).toBe('BAD_REQUEST');
    }
    // JSON that is not an event.
    const notEvent = await deliver([1, 2, 3]);
    expect(notEvent.statusCode).toBe(400);
    const poisoned = await deliver(undefined, {
      payload: '{"id":"evt_p","type":"x","__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(await recordedEvents()).toBe(events);
  });

  test('a session that cannot be created: 502, the order kept, the same key retries', async () => {
    const key = randomUUID();
    const email = `retry-${randomUUID()}@example.com`;
    stripe.failNext(500, 'error-api');
    const failed = await checkoutStripe(key, email);
    expect(failed.statusCode).toBe(502);
    expect(failed.json().error.code).toBe('PAYMENT_PROVIDER_UNAVAILABLE');
    expect(failed.json().error.message).toContain('same Idempotency-Key');
    const orders = async () =>
      store.db.query<{ id: string; status: string }>(
        'SELECT o.id, o.status FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1',
        [email],
      );
    expect((await orders()).map((o) => o.status)).toEqual(['pending']);

    const retried = await checkoutStripe(key, email);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.json().checkoutUrl).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    const [order] = await orders();
    expect((await orders()).length).toBe(1);
    // Both attempts asked Stripe under the order's id: Stripe makes one session of them.
    const attempts = sessionCalls().filter((r) => r.headers['idempotency-key'] === order!.id);
    expect(attempts.length).toBe(2);

    // A wrong key: Stripe's answer quotes part of it; the store's answer does not.
    stripe.failNext(401, 'error-authentication');
    const refused = await checkoutStripe();
    expect(refused.statusCode).toBe(502);
    expect(refused.body).not.toMatch(/sk_test/);
    expect(refused.json().error.message).toContain('StripeAuthenticationError');
  });

  test('an expired session fails the order; unknown and foreign events are acknowledged', async () => {
    const key = randomUUID();
    const email = `expired-${randomUUID()}@example.com`;
    const purchase = (await checkoutStripe(key, email)).json();
    const expired = await deliver(
      event('event-checkout-session-expired', { metadata: { order_id: purchase.order.id } }),
    );
    expect(expired.json()).toMatchObject({ ignored: false, order: { status: 'failed' } });
    expect(
      (await keyPost(store, '/v1/licenses/refresh', purchase.license.key, {})).statusCode,
    ).toBe(402);
    // Expired again (a new event id): nothing changes. A late payment of the failed order
    // is given back at Stripe (stripe-late-payment.test.ts); the order stays failed.
    expect(
      (
        await deliver(
          event('event-checkout-session-expired', { metadata: { order_id: purchase.order.id } }),
        )
      ).json(),
    ).toMatchObject({ ignored: true, order: { status: 'failed' } });
    stripe.paymentIntents.set('pi_late0001', {
      ...stripeFixture('payment-intent'),
      id: 'pi_late0001',
      metadata: { order_id: purchase.order.id },
    });
    const late = await deliver(completed(purchase.order.id, 'pi_late0001'));
    expect(late.statusCode).toBe(200);
    expect(late.json()).toMatchObject({ order: { status: 'failed' } });

    // A replay of a failed order's checkout asks Stripe for no page.
    const calls = sessionCalls().length;
    const replayed = await checkoutStripe(key, email);
    expect(replayed.statusCode).toBe(201);
    expect(replayed.json().checkoutUrl).toBeUndefined();
    const unknown = await deliver(event('event-customer-created'));
    expect(unknown.json()).toEqual({ received: true, duplicate: false, ignored: true });
    // A session some other app on the account opened (no order id).
    const foreign = await deliver(completed('', 'pi_foreign0001'));
    expect(foreign.json()).toMatchObject({ ignored: true });
    const missing = await deliver(completed('ord_missing', 'pi_missing0001'));
    expect(missing.statusCode).toBe(404);
    expect(sessionCalls().length).toBe(calls);
  });

  const purchaseOrders = async (licenseId: string) =>
    store.db.query<{ id: string; status: string; details: Record<string, unknown> }>(
      "SELECT id, status, details FROM orders WHERE license_id = $1 AND kind = 'purchase' ORDER BY created_at, id",
      [licenseId],
    );

  async function portalOf(key: string): Promise<PageClient> {
    const browser = new PageClient(store, { remoteAddress: `10.8.0.${++clients}` });
    const signIn = await browser.submit('/portal', '/portal/sign-in', { licenseKey: key });
    expect(signIn.headers.location).toBe('/portal/license');
    return browser;
  }

  test('an abandoned Checkout is paid from the portal: its own page while open, a new one once it expired', async () => {
    // Spelled as a buyer might: Stripe gets the address as the store keeps it, each time.
    const spelled = `Abandoned-${randomUUID()}@Example.COM`;
    const purchase = (await checkoutStripe(randomUUID(), spelled)).json();
    const checkoutCall = sessionCalls().at(-1)!;
    expect(checkoutCall.form.get('customer_email')).toBe(spelled.toLowerCase());
    // The app holds the key; its 402 sends the customer to the portal, not to a new purchase.
    const refresh = await keyPost(store, '/v1/licenses/refresh', purchase.license.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().checkoutUrl).toBe('http://store.test/portal/pay');

    const browser = await portalOf(purchase.license.key);
    const waiting = textOf((await browser.get('/portal/pay')).body);
    expect(waiting).toContain('Waiting for your payment');
    expect(waiting).toContain('Continue to the payment page');
    const callsAfterCheckout = sessionCalls().length;
    const back = await browser.submit('/portal/pay', '/portal/pay', {});
    expect(back.headers.location).toBe(purchase.checkoutUrl);
    // The page the checkout opened, as the store kept it: Stripe is not asked again.
    expect(sessionCalls().length).toBe(callsAfterCheckout);
    expect((await purchaseOrders(purchase.license.id)).length).toBe(1);

    // Stripe reports the page expired: the customer pays a new order on a page of its own,
    // which Stripe closes within the hour, and which comes back to the pay page.
    const expired = await deliver(
      event('event-checkout-session-expired', { metadata: { order_id: purchase.order.id } }),
    );
    expect(expired.json()).toMatchObject({ order: { status: 'failed' } });
    store.clock.advance(60_000);
    const payable = textOf((await browser.get('/portal/pay')).body);
    expect(payable).toContain('Not paid: the payment did not go through');
    expect(payable).toContain('Pay now');
    const second = await browser.submit('/portal/pay', '/portal/pay', {});
    expect(second.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect(second.headers.location).not.toBe(purchase.checkoutUrl);
    const orders = await purchaseOrders(purchase.license.id);
    expect(orders.map((order) => order.status)).toEqual(['failed', 'pending']);
    expect(orders[1]!.details).toMatchObject({ retryOf: orders[0]!.id, paymentPage: true });
    const pageCall = sessionCalls().at(-1)!;
    expect(pageCall.headers['idempotency-key']).toBe(orders[1]!.id);
    expect(Number(pageCall.form.get('expires_at'))).toBe(seconds(store.clock.now()) + 3600);
    expect(pageCall.form.get('cancel_url')).toBe('http://store.test/portal/pay');
    // A second click goes back to that page; no third order.
    expect((await browser.submit('/portal/pay', '/portal/pay', {})).headers.location).toBe(
      second.headers.location,
    );
    expect((await purchaseOrders(purchase.license.id)).length).toBe(2);

    const paid = await deliver(completed(orders[1]!.id, 'pi_portalpurchase0001'));
    expect(paid.json()).toMatchObject({ order: { status: 'paid' } });
    expect(
      (await keyPost(store, '/v1/licenses/refresh', purchase.license.key, {})).statusCode,
    ).toBe(200);
  });

  test('a Checkout page is reopened as it was opened, whatever changed since and even with Stripe down', async () => {
    const purchase = (await checkoutStripe()).json();
    const calls = sessionCalls().length;
    const [bought] = await store.db.query<{ customer_id: string }>(
      'SELECT customer_id FROM orders WHERE id = $1',
      [purchase.order.id],
    );
    const customerId = bought!.customer_id;
    // Each of these changes what the checkout's request would say now, and Stripe refuses a
    // used idempotency key sent with other parameters: the product renamed, and a card the
    // buyer saved with another purchase (the request would name their Stripe customer).
    await store.db.query("UPDATE products SET name = name || ' (renamed)' WHERE id = 'photon'");
    await store.db.query(
      `INSERT INTO stripe_payment_methods (customer_id, stripe_customer, payment_method, order_id, updated_at)
       VALUES ($1, 'cus_savedElsewhere01', 'pm_savedElsewhere01', $2, $3)`,
      [customerId, purchase.order.id, store.clock.now()],
    );
    // Stripe down: any request for this order fails (retries included).
    stripe.failNext(500, 'error-api', 5, (r) => r.headers['idempotency-key'] === purchase.order.id);
    try {
      const browser = await portalOf(purchase.license.key);
      const back = await browser.submit('/portal/pay', '/portal/pay', {});
      expect(back.headers.location).toBe(purchase.checkoutUrl);
      expect(sessionCalls().length).toBe(calls);
    } finally {
      await store.db.query(
        "UPDATE products SET name = replace(name, ' (renamed)', '') WHERE id = 'photon'",
      );
      await store.db.query('DELETE FROM stripe_payment_methods WHERE customer_id = $1', [
        customerId,
      ]);
    }
  });

  test('a Checkout page past its day waits for Stripe’s report, never opens a second one', async () => {
    const purchase = (await checkoutStripe()).json();
    const calls = sessionCalls().length;
    // A day on (the page has expired at Stripe; its report is not in yet).
    store.clock.advance(24 * 3600_000);
    const browser = await portalOf(purchase.license.key);
    const page = await browser.get('/portal/pay');
    expect(textOf(page.body)).toContain('Payment in progress');
    expect(() => formFields(page.body, '/portal/pay')).toThrow();
    const csrf = formFields(page.body, '/portal/sign-out').csrf!;
    expect((await browser.post('/portal/pay', { csrf })).headers.location).toBe('/portal/pay');
    expect(sessionCalls().length).toBe(calls);
    expect((await purchaseOrders(purchase.license.id)).map((order) => order.status)).toEqual([
      'pending',
    ]);
  });

  // Stripe down at the checkout and the customer back only after the page's day (signed in
  // to the portal by e-mail: the checkout's 502 carried no key): no page was ever opened, so
  // no Checkout report will ever come, and the portal said "in progress" for good.
  test('a purchase whose Checkout page was never opened is paid anew after its day', async () => {
    const email = `never-opened-${randomUUID()}@example.com`;
    stripe.failNext(500, 'error-api');
    expect((await checkoutStripe(randomUUID(), email)).statusCode).toBe(502);
    const [bought] = await store.db.query<{ license_id: string }>(
      'SELECT o.license_id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1',
      [email],
    );
    const licenseId = bought!.license_id;
    const owedAt = async () => {
      const license = await licensesRepository(store.db).byId(licenseId);
      return (await owedPayment(store.db, license!, store.clock.now())).state;
    };
    // Within its day the portal opens the checkout's own page (as the retry would).
    expect(await owedAt()).toBe('started');
    store.clock.advance(24 * 3600_000);
    expect(await owedAt()).toBe('payable');
    const paid = await payOwed(context(store), licenseId, { returnPath: '/portal/pay' });
    expect(paid.outcome).toBe('payment_page');
    const orders = await purchaseOrders(licenseId);
    expect(orders.map((order) => order.status)).toEqual(['failed', 'pending']);
    expect(orders[1]!.details).toMatchObject({ retryOf: orders[0]!.id, paymentPage: true });
  });

  test('a session for another sum than the order is refused', async () => {
    const orderId = (await checkoutStripe()).json().order.id;
    const wrong = await deliver(completed(orderId, 'pi_wrong0001', 1));
    expect(wrong.statusCode).toBe(409);
    expect((await orderRow(orderId)).status).toBe('pending');
  });

  test('an admin refund goes to Stripe; its reports are not booked twice', async () => {
    const orderId = (await checkoutStripe()).json().order.id;
    await deliver(completed(orderId, 'pi_adminrefund01'));
    const refund = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/orders/${orderId}/refunds`,
      headers: { ...ADMIN, 'idempotency-key': randomUUID() },
      payload: { amount: 600, reason: 'asked' },
    });
    expect(refund.statusCode).toBe(201);
    expect(refund.json()).toMatchObject({ amount: 600, providerRefund: 'sent' });
    const sent = stripe.requests
      .filter((r) => r.path === '/v1/refunds' && r.method === 'POST')
      .at(-1)!;
    const refundId: string = refund.json().refundId;
    expect(sent.headers['idempotency-key']).toBe(refundId);
    expect(Object.fromEntries(sent.form)).toMatchObject({
      payment_intent: 'pi_adminrefund01',
      amount: '600',
      'metadata[refund_id]': refundId,
      'metadata[order_id]': orderId,
    });
    // Stripe reports it back twice (refund.created, charge.refunded): nothing new is booked.
    const created = await deliver(
      event('event-refund-created', {
        id: 're_fixture_admin',
        amount: 600,
        payment_intent: 'pi_adminrefund01',
        charge: 'ch_adminrefund01',
        metadata: { refund_id: refundId, order_id: orderId },
      }),
    );
    expect(created.json()).toMatchObject({ ignored: true });
    const charged = await deliver(
      event('event-charge-refunded', {
        id: 'ch_adminrefund01',
        payment_intent: 'pi_adminrefund01',
        amount_refunded: 600,
      }),
    );
    expect(charged.statusCode).toBe(200);
    expect(stripe.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/refunds' });
    expect(stripe.requests.at(-1)!.query.get('charge')).toBe('ch_adminrefund01');
    const rows = await store.db.query<{ amount_minor: string }>(
      'SELECT amount_minor FROM refunds WHERE order_id = $1',
      [orderId],
    );
    expect(rows.map((r) => Number(r.amount_minor))).toEqual([600]);
  });

  test('refunds and a dispute made at Stripe are booked once each', async () => {
    const orderId = (await checkoutStripe()).json().order.id;
    await deliver(completed(orderId, 'pi_dashboard01'));
    const dashboardRefund = {
      ...stripeFixture('refund'),
      id: 're_dashboard01',
      amount: 400,
      payment_intent: 'pi_dashboard01',
      charge: 'ch_dashboard01',
      metadata: {},
    };
    // charge.refunded first (it names no refund: the store lists them), then refund.created.
    stripe.addRefund(dashboardRefund);
    const charged = await deliver(
      event('event-charge-refunded', {
        id: 'ch_dashboard01',
        payment_intent: 'pi_dashboard01',
        amount_refunded: 400,
      }),
    );
    expect(charged.json()).toMatchObject({ ignored: false, order: { status: 'paid' } });
    const createdEvent = event('event-refund-created', dashboardRefund);
    expect((await deliver(createdEvent)).json()).toMatchObject({ duplicate: true });
    expect((await deliver(createdEvent)).json()).toMatchObject({ duplicate: true });
    const refunds = async () =>
      store.db.query<{ kind: string; amount_minor: string; source: string }>(
        'SELECT kind, amount_minor, source FROM refunds WHERE order_id = $1 ORDER BY kind DESC',
        [orderId],
      );
    expect((await refunds()).map((r) => [r.kind, Number(r.amount_minor), r.source])).toEqual([
      ['refund', 400, 'processor'],
    ]);

    // A dispute of the whole charge takes what is left.
    const dispute = event('event-charge-dispute-created', {
      id: 'du_dashboard01',
      payment_intent: 'pi_dashboard01',
      charge: 'ch_dashboard01',
      amount: 1500,
    });
    const disputed = await deliver(dispute);
    expect(disputed.json()).toMatchObject({ order: { status: 'refunded' } });
    expect((await deliver(dispute)).json()).toMatchObject({ duplicate: true });
    expect((await refunds()).map((r) => [r.kind, Number(r.amount_minor)])).toEqual([
      ['refund', 400],
      ['chargeback', 1100],
    ]);
    // A refund of a payment this store never took is not its to book (Stripe knows the
    // PaymentIntent: it names no order of this store).
    stripe.paymentIntents.set('pi_someone_else', {
      ...stripeFixture('payment-intent'),
      id: 'pi_someone_else',
      metadata: {},
    });
    const foreign = await deliver(
      event('event-refund-created', { id: 're_foreign', payment_intent: 'pi_someone_else' }),
    );
    expect(foreign.json()).toMatchObject({ ignored: true });
  });

  test('a refund or dispute reported before the payment waits for it, never lost', async () => {
    // Stripe does not deliver in order and retries a failed delivery for days: here the
    // session's paid event comes last. The PaymentIntent names the order (Checkout's
    // payment_intent_data.metadata), as every one this store's sessions create does.
    const orderId = (await checkoutStripe()).json().order.id;
    const pi = `pi_early${randomUUID().slice(0, 8)}`;
    stripe.paymentIntents.set(pi, {
      ...stripeFixture('payment-intent'),
      id: pi,
      metadata: { order_id: orderId },
    });
    const early = {
      ...stripeFixture('refund'),
      id: `re_${pi.slice(3)}`,
      amount: 400,
      payment_intent: pi,
      charge: `ch_${pi.slice(3)}`,
      metadata: {},
    };
    stripe.addRefund(early);
    const refundCreated = event('event-refund-created', early);
    const chargeRefunded = event('event-charge-refunded', {
      id: early.charge,
      payment_intent: pi,
      amount_refunded: 400,
    });
    const dispute = event('event-charge-dispute-created', {
      id: `du_${pi.slice(3)}`,
      payment_intent: pi,
      charge: early.charge,
      amount: 1500,
    });
    for (const report of [refundCreated, chargeRefunded, dispute]) {
      // Not acknowledged: Stripe delivers it again.
      expect((await deliver(report)).statusCode).toBe(409);
    }
    expect((await orderRow(orderId)).status).toBe('pending');

    expect((await deliver(completed(orderId, pi))).json()).toMatchObject({
      order: { status: 'paid' },
    });
    for (const report of [refundCreated, chargeRefunded, dispute]) {
      expect((await deliver(report)).statusCode).toBe(200);
    }
    const rows = await store.db.query<{ kind: string; amount_minor: string }>(
      'SELECT kind, amount_minor FROM refunds WHERE order_id = $1 ORDER BY kind DESC',
      [orderId],
    );
    expect(rows.map((r) => [r.kind, Number(r.amount_minor)])).toEqual([
      ['refund', 400],
      ['chargeback', 1100],
    ]);
    expect((await orderRow(orderId)).status).toBe('refunded');
  });

  test('concurrent deliveries: one event applied once, different refunds each once', async () => {
    const orderId = (await checkoutStripe()).json().order.id;
    const paidEvent = completed(orderId, 'pi_concurrent01');
    const answers = await Promise.all([deliver(paidEvent), deliver(paidEvent), deliver(paidEvent)]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.json().duplicate === false).length).toBe(1);
    const refundEvent = (id: string, amount: number) =>
      event('event-refund-created', {
        id,
        amount,
        payment_intent: 'pi_concurrent01',
        charge: 'ch_concurrent01',
        metadata: {},
      });
    const [a, b] = [refundEvent('re_concurrent_a', 300), refundEvent('re_concurrent_b', 500)];
    const booked = await Promise.all([deliver(a), deliver(b), deliver(a), deliver(b)]);
    expect(booked.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    const rows = await store.db.query<{ amount_minor: string }>(
      'SELECT amount_minor FROM refunds WHERE order_id = $1 ORDER BY amount_minor',
      [orderId],
    );
    expect(rows.map((r) => Number(r.amount_minor))).toEqual([300, 500]);
  });

  test('property: refunds reported in any order, repeated, by either event, are booked once each', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        // Up to four refunds of at most what was paid (1500), then a delivery schedule.
        fc.array(fc.integer({ min: 1, max: 375 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 1, maxLength: 8 }),
        async (amounts, schedule) => {
          run += 1;
          const orderId = (await checkoutStripe()).json().order.id;
          const pi = `pi_property${run}x${randomUUID().slice(0, 8)}`;
          await deliver(completed(orderId, pi));
          const charge = `ch_${pi.slice(3)}`;
          const refunds = amounts.map((amount, index) => ({
            ...stripeFixture('refund'),
            id: `re_${pi.slice(3)}_${index}`,
            amount,
            payment_intent: pi,
            charge,
            metadata: {},
          }));
          for (const refund of refunds) stripe.addRefund(refund);
          const created = refunds.map((refund) => event('event-refund-created', refund));
          // Each step delivers one refund's refund.created (the same event again when
          // repeated) or a charge.refunded, which lists every refund of the charge.
          for (const [pick, viaCharge] of schedule) {
            const answer = viaCharge
              ? await deliver(event('event-charge-refunded', { id: charge, payment_intent: pi }))
              : await deliver(created[pick % created.length]);
            expect(answer.statusCode).toBe(200);
          }
          for (const refund of created) await deliver(refund);
          const rows = await store.db.query<{ amount_minor: string }>(
            'SELECT amount_minor FROM refunds WHERE order_id = $1',
            [orderId],
          );
          const booked = rows.map((r) => Number(r.amount_minor)).sort((x, y) => x - y);
          expect(booked).toEqual([...amounts].sort((x, y) => x - y));
        },
      ),
      { numRuns: 12 },
    );
  });

  test('the storefront sends the browser to Stripe (303) and keeps the order on a failure', async () => {
    const client = new PageClient(store, { remoteAddress: `10.9.0.${++clients}` });
    const page = await client.get('/products/photon?plan=pro-monthly');
    expect(page.body).toContain('You pay on the next page.');
    const fields: Record<string, string> = {
      ...formFields(page.body, '/checkout'),
      email: `page-${randomUUID()}@example.com`,
    };
    stripe.failNext(500, 'error-api');
    const failed = await client.post('/checkout', fields);
    expect(failed.statusCode).toBe(502);
    expect(failed.body).toContain('Your order is kept');
    // The re-rendered form carries the same idempotency key: sending it again continues.
    const again = formFields(failed.body, '/checkout');
    expect(again.idempotencyKey).toBe(fields.idempotencyKey);
    const redirected = await client.post('/checkout', { ...fields, ...again });
    expect(redirected.statusCode).toBe(303);
    expect(redirected.headers.location).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\//);
    expect(redirected.headers['content-security-policy']).toContain(
      "form-action 'self' https://checkout.stripe.com",
    );
    // Signed in to the portal for the return from Stripe.
    expect(client.cookies.has('lk_portal')).toBe(true);
  });

  test('the route is in the OpenAPI document with its answers', async () => {
    const document = (await store.app.inject({ url: '/docs/json' })).json();
    const operation = document.paths['/v1/webhooks/payments/stripe'].post;
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '409', '413', '502']),
    );
    const checkout = document.paths['/v1/checkout'].post;
    expect(Object.keys(checkout.responses)).toContain('502');
  });
});
