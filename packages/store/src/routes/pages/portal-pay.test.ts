import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PaymentProvider } from '../../payments/provider.js';
import { paymentProviders } from '../../payments/provider.js';
import { runBillingCycle } from '../../services/billing.js';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import {
  buy,
  context,
  deliverPaymentWebhook,
  eventsOf,
  keyPost,
  STORE_URL,
  subscribeToEvents,
} from '../../testing/licensing.js';
import { accessibilityProblems, formFields, PageClient, textOf } from '../../testing/pages.js';

/**
 * Paying what a license owes from the portal (routes/pages/portal-pay.ts): a renewal the
 * provider refused is charged again, once per click, and the license is active again for
 * the period it was for; a purchase whose payment failed is paid again and activates the
 * same license; an order still with a processor is left alone.
 */

const SECRET = `whsec_${Buffer.from('the portal pay webhook secret').toString('base64')}`;
// The harness clock starts on 2026-01-15 12:00: a monthly period ends on 2026-02-15 12:00.
const PERIOD_END = Date.UTC(2026, 1, 15, 12);

describe.skipIf(postgresUnavailable)('paying an overdue renewal in the portal', () => {
  let store: TestStore;
  let clients = 0;
  /** A provider that refuses every charge while `refusing` is true, and pays otherwise. */
  const flaky = { refusing: true };
  const flakyProvider: PaymentProvider = {
    name: 'flaky',
    test: true,
    async charge() {
      return flaky.refusing
        ? { status: 'failed', reason: 'card declined' }
        : { status: 'paid', reference: `flaky_${randomUUID()}` };
    },
  };

  beforeAll(async () => {
    store = await buildTestStore({
      licensing: { billing: { enabled: false }, paymentWebhookSecrets: { acmepay: SECRET } },
    });
    paymentProviders(context(store).config).set('flaky', flakyProvider);
    await subscribeToEvents(store);
  });
  afterAll(async () => store?.close());

  async function signedIn(purchase: Purchase): Promise<PageClient> {
    const client = new PageClient(store, { remoteAddress: `10.7.0.${++clients}` });
    const response = await client.submit('/portal', '/portal/sign-in', {
      licenseKey: purchase.key,
    });
    expect(response.headers.location).toBe('/portal/license');
    return client;
  }

  /** The pay page, checked for accessibility and for the license key (never shown). */
  async function payPage(client: PageClient, purchase: Purchase, url = '/portal/pay') {
    const page = await client.get(url);
    expect(page.statusCode).toBe(200);
    expect(accessibilityProblems(page.body)).toEqual([]);
    expect(page.body).not.toContain(purchase.key);
    return page;
  }

  /** The license's orders of `kind`, oldest first. */
  const ordersOf = async (licenseId: string, kind: 'renewal' | 'purchase') =>
    store.db.query<{
      id: string;
      status: string;
      amount_minor: number;
      details: Record<string, unknown>;
    }>(
      'SELECT id, status, amount_minor, details FROM orders WHERE license_id = $1 AND kind = $2 ORDER BY created_at, id',
      [licenseId, kind],
    );
  const renewals = (licenseId: string) => ordersOf(licenseId, 'renewal');
  const purchases = (licenseId: string) => ordersOf(licenseId, 'purchase');
  const licenseRow = async (id: string) =>
    (
      await store.db.query<{ status: string; period_end: Date }>(
        'SELECT status, period_end FROM licenses WHERE id = $1',
        [id],
      )
    )[0]!;

  /** A license bought now whose renewal at the period end `provider` is asked to charge. */
  async function renewedThrough(provider: string, body: Record<string, unknown> = {}) {
    store.clock.set(Date.UTC(2026, 0, 15, 12));
    const purchase = await buy(store, body);
    await store.db.query('UPDATE orders SET provider = $2 WHERE license_id = $1', [
      purchase.licenseId,
      provider,
    ]);
    store.clock.set(PERIOD_END + 60_000);
    expect((await runBillingCycle(context(store), store.clock.now())).failed).toBe(0);
    expect((await licenseRow(purchase.licenseId)).status).toBe('past_due');
    return purchase;
  }

  const deliver = (type: string, providerRef: string) =>
    deliverPaymentWebhook(
      store,
      { provider: 'acmepay', secret: SECRET },
      { type, data: { providerRef } },
    );

  test('a refused renewal is charged again per click; once paid the license has its period back', async () => {
    flaky.refusing = true;
    const purchase = await renewedThrough('flaky');
    const [refused] = await renewals(purchase.licenseId);
    expect(refused!.status).toBe('failed');
    const refresh = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().checkoutUrl).toBe(`${STORE_URL}/portal/pay`);

    const client = await signedIn(purchase);
    const license = await client.get('/portal/license');
    expect(textOf(license.body)).toContain('Payment overdue');
    expect(formFields(license.body, '/portal/sign-out').csrf).toBeDefined();
    expect(license.body).toContain('href="/portal/pay"');
    const page = await payPage(client, purchase);
    const text = textOf(page.body);
    expect(text).toContain('$15.00');
    expect(text).toContain('Not paid: the payment was refused');
    expect(page.body).toContain('datetime="2026-02-15T12:00:00.000Z"');
    expect(page.body).toContain('datetime="2026-03-15T12:00:00.000Z"');
    const fields = formFields(page.body, '/portal/pay');

    // Hostile and stale posts change nothing.
    expect((await client.post('/portal/pay', {})).statusCode).toBe(403);
    expect((await client.post('/portal/pay', { csrf: 'forged' })).statusCode).toBe(403);
    const stranger = new PageClient(store, { remoteAddress: '10.7.1.1' });
    expect((await stranger.post('/portal/pay', fields)).statusCode).toBe(401);
    expect((await renewals(purchase.licenseId)).length).toBe(1);
    expect((await stranger.get('/portal/pay')).headers.location).toBe('/portal?next=pay');
    // Signing in goes on to the pay page; `next` names a page of a fixed list, never a URL.
    const signIn = await stranger.submit('/portal?next=pay', '/portal/sign-in', {
      licenseKey: purchase.key,
    });
    expect(signIn.headers.location).toBe('/portal/pay');
    for (const next of ['https://evil.example/', '//evil.example', '/portal/pay', 'license']) {
      const elsewhere = new PageClient(store, { remoteAddress: '10.7.1.2' });
      const page = await elsewhere.get(`/portal?next=${encodeURIComponent(next)}`);
      expect(page.body).not.toContain('name="next"');
      const answer = await elsewhere.post('/portal/sign-in', {
        ...formFields(page.body, '/portal/sign-in'),
        licenseKey: purchase.key,
        next,
      });
      expect(answer.headers.location).toBe('/portal/license');
    }
    expect((await renewals(purchase.licenseId)).length).toBe(1);

    // Refused again (a minute later): a second failed order, and the page says so.
    store.clock.advance(60_000);
    const again = await client.post('/portal/pay', fields);
    expect(again.headers.location).toBe('/portal/pay?done=refused');
    expect(textOf((await payPage(client, purchase, again.headers.location)).body)).toContain(
      'The payment was refused again',
    );
    expect((await renewals(purchase.licenseId)).map((order) => order.status)).toEqual([
      'failed',
      'failed',
    ]);

    flaky.refusing = false;
    store.clock.advance(60_000);
    const paid = await client.post('/portal/pay', fields);
    expect(paid.headers.location).toBe('/portal/license?done=renewal-paid');
    const orders = await renewals(purchase.licenseId);
    expect(orders.map((order) => order.status)).toEqual(['failed', 'failed', 'paid']);
    expect(orders[2]!.details).toMatchObject({
      retryOf: orders[1]!.id,
      periodStart: '2026-02-15T12:00:00.000Z',
      periodEnd: '2026-03-15T12:00:00.000Z',
    });
    expect(orders[2]!.details.paymentPage).toBeUndefined();
    expect(Number(orders[2]!.amount_minor)).toBe(1500);
    const row = await licenseRow(purchase.licenseId);
    expect(row.status).toBe('active');
    expect(new Date(row.period_end).toISOString()).toBe('2026-03-15T12:00:00.000Z');
    const renewed = (await eventsOf(store, purchase.licenseId)).filter(
      (event) => event.type === 'license.renewed',
    );
    expect(renewed.map((event) => event.data.orderId)).toEqual([orders[2]!.id]);
    const invoices = await store.db.query(
      "SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [orders[2]!.id],
    );
    expect(invoices.length).toBe(1);
    expect(textOf((await client.get('/portal/license?done=renewal-paid')).body)).toContain(
      'the renewal is paid and your license is active again',
    );
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(200);

    // Nothing is due any more: the page and a replayed post go back to the license.
    expect((await client.get('/portal/pay')).headers.location).toBe(
      '/portal/license?done=nothing-due',
    );
    expect((await client.post('/portal/pay', fields)).headers.location).toBe(
      '/portal/license?done=nothing-due',
    );
    expect((await renewals(purchase.licenseId)).length).toBe(3);
  });

  test('a renewal paid too late gets a new period from the payment', async () => {
    flaky.refusing = true;
    const purchase = await renewedThrough('flaky');
    // The period the renewal was for is over when the customer pays.
    store.clock.set(Date.UTC(2026, 2, 20, 9));
    const client = await signedIn(purchase);
    const fields = formFields((await payPage(client, purchase)).body, '/portal/pay');
    flaky.refusing = false;
    expect((await client.post('/portal/pay', fields)).headers.location).toBe(
      '/portal/license?done=renewal-paid',
    );
    const row = await licenseRow(purchase.licenseId);
    expect(row.status).toBe('active');
    expect(new Date(row.period_end).toISOString()).toBe('2026-04-20T09:00:00.000Z');
  });

  test('two clicks at once pay once', async () => {
    flaky.refusing = true;
    const purchase = await renewedThrough('flaky');
    flaky.refusing = false;
    const client = await signedIn(purchase);
    const fields = formFields((await payPage(client, purchase)).body, '/portal/pay');
    const answers = await Promise.all([
      client.post('/portal/pay', fields),
      client.post('/portal/pay', fields),
    ]);
    expect(answers.map((answer) => answer.headers.location).sort()).toEqual([
      '/portal/license?done=nothing-due',
      '/portal/license?done=renewal-paid',
    ]);
    // (Placed at the same instant of the test clock as the refused one: sorted by status.)
    const orders = await renewals(purchase.licenseId);
    expect(orders.map((order) => order.status).sort()).toEqual(['failed', 'paid']);
  });

  test('a renewal still with the processor is waited for, a refused one is sent to it again', async () => {
    store.clock.set(Date.UTC(2026, 0, 15, 12));
    const purchase = await buy(store, { provider: 'acmepay' });
    expect((await deliver('order.paid', purchase.orderId)).statusCode).toBe(200);
    store.clock.set(PERIOD_END + 60_000);
    await runBillingCycle(context(store), store.clock.now());
    const [first] = await renewals(purchase.licenseId);
    expect(first!.status).toBe('pending');

    const client = await signedIn(purchase);
    expect(textOf((await client.get('/portal/license')).body)).toContain(
      'A payment of the renewal is being processed. See the payment',
    );
    const waiting = await payPage(client, purchase);
    expect(textOf(waiting.body)).toContain('Your payment is being processed');
    expect(() => formFields(waiting.body, '/portal/pay')).toThrow();
    // A post (an old page) does not charge a second time while the first is pending.
    const csrf = formFields(waiting.body, '/portal/sign-out').csrf!;
    expect((await client.post('/portal/pay', { csrf })).headers.location).toBe('/portal/pay');
    expect((await renewals(purchase.licenseId)).length).toBe(1);

    expect((await deliver('order.failed', first!.id)).statusCode).toBe(200);
    const fields = formFields((await payPage(client, purchase)).body, '/portal/pay');
    store.clock.advance(60_000);
    expect((await client.post('/portal/pay', fields)).headers.location).toBe('/portal/pay');
    const orders = await renewals(purchase.licenseId);
    expect(orders.map((order) => order.status)).toEqual(['failed', 'pending']);
    expect(textOf((await payPage(client, purchase)).body)).toContain('Payment in progress');
    expect((await client.post('/portal/pay', fields)).headers.location).toBe('/portal/pay');
    expect((await renewals(purchase.licenseId)).length).toBe(2);

    expect((await deliver('order.paid', orders[1]!.id)).json()).toMatchObject({
      order: { status: 'paid' },
    });
    expect((await licenseRow(purchase.licenseId)).status).toBe('active');
  });

  test('an invoice renewal says the vendor records it; a license not past due has nothing to pay', async () => {
    const invoiced = await renewedThrough('manual');
    const client = await signedIn(invoiced);
    expect(textOf((await payPage(client, invoiced)).body)).toContain(
      'paid by invoice or bank transfer',
    );

    store.clock.set(Date.UTC(2026, 0, 15, 12));
    const active = await buy(store);
    const activeClient = await signedIn(active);
    expect((await activeClient.get('/portal/pay')).headers.location).toBe(
      '/portal/license?done=nothing-due',
    );
    const csrf = formFields((await activeClient.get('/portal/license')).body, '/portal/sign-out')
      .csrf!;
    expect((await activeClient.post('/portal/pay', { csrf })).headers.location).toBe(
      '/portal/license?done=nothing-due',
    );
    expect((await renewals(active.licenseId)).length).toBe(0);
  });

  test('an unpaid purchase is paid from the portal: the same license and key, not a second one', async () => {
    store.clock.set(Date.UTC(2026, 0, 15, 12));
    const purchase = await buy(store, { provider: 'acmepay' });
    // The app holds the key of a license whose order is still with the processor.
    const refresh = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().checkoutUrl).toBe(`${STORE_URL}/portal/pay`);
    const client = await signedIn(purchase);
    expect(textOf((await client.get('/portal/license')).body)).toContain(
      'A payment of the order is being processed. See the payment',
    );
    const waiting = await payPage(client, purchase);
    expect(textOf(waiting.body)).toContain('Pay for your');
    expect(textOf(waiting.body)).toContain('Your payment is being processed');
    expect(() => formFields(waiting.body, '/portal/pay')).toThrow();
    // A post (an old page) orders nothing while the processor has the order.
    const csrf = formFields(waiting.body, '/portal/sign-out').csrf!;
    expect((await client.post('/portal/pay', { csrf })).headers.location).toBe('/portal/pay');
    expect((await purchases(purchase.licenseId)).length).toBe(1);

    // The processor reports the payment failed: the customer pays again, for the same terms.
    expect((await deliver('order.failed', purchase.orderId)).statusCode).toBe(200);
    expect(textOf((await client.get('/portal/license')).body)).toContain('Pay the order');
    const page = await payPage(client, purchase);
    expect(textOf(page.body)).toContain('Not paid: the payment did not go through');
    expect(textOf(page.body)).toContain('$15.00');
    const fields = formFields(page.body, '/portal/pay');
    store.clock.advance(60_000);
    expect((await client.post('/portal/pay', fields)).headers.location).toBe('/portal/pay');
    const orders = await purchases(purchase.licenseId);
    expect(orders.map((order) => order.status)).toEqual(['failed', 'pending']);
    expect(orders[1]!.details).toMatchObject({ retryOf: orders[0]!.id });
    expect(Number(orders[1]!.amount_minor)).toBe(Number(orders[0]!.amount_minor));
    // A second click while that order is with the processor orders nothing more.
    expect((await client.post('/portal/pay', fields)).headers.location).toBe('/portal/pay');
    expect((await purchases(purchase.licenseId)).length).toBe(2);

    expect((await deliver('order.paid', orders[1]!.id)).json()).toMatchObject({
      order: { status: 'paid' },
    });
    expect((await licenseRow(purchase.licenseId)).status).toBe('active');
    const created = (await eventsOf(store, purchase.licenseId)).filter(
      (event) => event.type === 'license.created',
    );
    expect(created.map((event) => event.data.orderId)).toEqual([orders[1]!.id]);
    // The key the app already has now refreshes; the customer still has one license.
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(200);
    const licenses = await store.db.query(
      'SELECT 1 FROM licenses WHERE customer_id = (SELECT customer_id FROM licenses WHERE id = $1)',
      [purchase.licenseId],
    );
    expect(licenses.length).toBe(1);
    expect((await client.get('/portal/pay')).headers.location).toBe(
      '/portal/license?done=nothing-due',
    );
  });

  test('an unpaid purchase paid at once activates the license and books the order', async () => {
    store.clock.set(Date.UTC(2026, 0, 15, 12));
    const purchase = await buy(store, { provider: 'acmepay' });
    expect((await deliver('order.failed', purchase.orderId)).statusCode).toBe(200);
    // The license's provider now charges at once.
    await store.db.query("UPDATE orders SET provider = 'flaky' WHERE license_id = $1", [
      purchase.licenseId,
    ]);
    flaky.refusing = false;
    const client = await signedIn(purchase);
    const fields = formFields((await payPage(client, purchase)).body, '/portal/pay');
    store.clock.advance(60_000);
    const paid = await client.post('/portal/pay', fields);
    expect(paid.headers.location).toBe('/portal/license?done=purchase-paid');
    expect(textOf((await client.get(paid.headers.location as string)).body)).toContain(
      'your order is paid and your license is active',
    );
    const orders = await purchases(purchase.licenseId);
    expect(orders.map((order) => order.status)).toEqual(['failed', 'paid']);
    const row = await licenseRow(purchase.licenseId);
    expect(row.status).toBe('active');
    // A monthly period from the payment, not from the abandoned order.
    expect(new Date(row.period_end).toISOString()).toBe('2026-02-15T12:01:00.000Z');
    const invoices = await store.db.query(
      "SELECT 1 FROM invoices WHERE order_id = $1 AND kind = 'invoice'",
      [orders[1]!.id],
    );
    expect(invoices.length).toBe(1);
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(200);
  });

  test('a revoked license cannot be paid', async () => {
    flaky.refusing = true;
    const purchase = await renewedThrough('flaky');
    const client = await signedIn(purchase);
    const fields = formFields((await payPage(client, purchase)).body, '/portal/pay');
    const revoke = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/licenses/${purchase.licenseId}/revoke`,
      headers: ADMIN,
      payload: {},
    });
    expect(revoke.statusCode).toBe(200);
    flaky.refusing = false;
    const refused = await client.post('/portal/pay', fields);
    expect([401, 403]).toContain(refused.statusCode);
    expect((await renewals(purchase.licenseId)).length).toBe(1);
  });
});
