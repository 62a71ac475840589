import { randomUUID } from 'node:crypto';
import { decodeDocument, readLicenseClaims } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { markOrderPaid } from '../../services/checkout.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import {
  activate,
  buy,
  checkoutRequest,
  context,
  DAY_MS,
  deviceKey,
  eventsOf,
  keyGet,
  keyPost,
  storeVerifier,
  subscribeToEvents,
} from '../../testing/licensing.js';

const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));

describe.skipIf(postgresUnavailable)('checkout', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore();
    await subscribeToEvents(store);
  });
  afterAll(async () => store?.close());

  test('the test provider pays at once; test is visible in order, license and response', async () => {
    const purchase = await buy(store);
    expect(purchase.body).toMatchObject({
      order: { kind: 'purchase', status: 'paid', amount: 1500, currency: 'USD', test: true },
      license: { status: 'active', test: true },
      test: true,
    });
    expect(purchase.key).toMatch(/^LK-[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{1,5}){6}$/);
    const verdict = await (await storeVerifier(store)).verify(purchase.token!);
    expect(verdict).toMatchObject({ valid: true, status: 'active', trial: false });
    const [row] = await store.db.query<{ test: boolean; status: string; provider_ref: string }>(
      'SELECT test, status, provider_ref FROM orders WHERE id = $1',
      [purchase.orderId],
    );
    expect(row).toMatchObject({ test: true, status: 'paid' });
    expect(row!.provider_ref).toMatch(/^test_/);
    const events = await eventsOf(store, purchase.licenseId);
    expect(events.map((event) => event.type)).toEqual(['license.created']);
    expect(events[0]!.data).toMatchObject({ planId: 'pro-monthly', test: true });
  });

  test('per-seat plans charge price × seats and carry the seats as a quota', async () => {
    const team = await buy(store, { planId: 'team-yearly', seats: 3 });
    expect(team.body).toMatchObject({ order: { amount: 36_000, currency: 'USD' } });
    const claims = claimsOf(team.token!);
    expect(claims.quota.seats).toEqual({ limit: 3 });
    expect(claims.quota.exports).toEqual({ unlimited: true });
    // A year from now, which is also where the store's issuer certificate ends.
    expect(claims.exp).toBe(Math.floor(Date.UTC(2027, 0, 15, 12) / 1000));
    const defaultSeats = await buy(store, { planId: 'team-yearly' });
    expect(defaultSeats.body).toMatchObject({ order: { amount: 60_000 } });
    const fixed = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'pro-monthly',
      email: 'fixed@example.com',
      seats: 7,
    });
    expect(fixed.statusCode).toBe(400);
  });

  test('the license key is stored only as a keyed hash and a 4-character hint', async () => {
    const purchase = await buy(store);
    const compact = purchase.key.replace(/-/g, '');
    const tables = [
      'licenses',
      'orders',
      'customers',
      'tokens',
      'idempotency_keys',
      'webhook_outbox',
    ];
    for (const table of tables) {
      const rows = await store.db.query(`SELECT * FROM ${table}`);
      const dump = JSON.stringify(rows, (_name, value) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
      );
      expect(dump.includes(purchase.key), table).toBe(false);
      expect(dump.includes(compact), table).toBe(false);
      expect(dump.includes(compact.slice(0, 12)), table).toBe(false);
    }
    const [license] = await store.db.query<{ key_hint: string; key_hash: string }>(
      'SELECT key_hint, key_hash FROM licenses WHERE id = $1',
      [purchase.licenseId],
    );
    expect(license!.key_hint).toBe(compact.slice(-4));
    expect(license!.key_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Lookups normalise what a customer typed.
    const typed = purchase.key.toLowerCase();
    expect((await keyGet(store, '/v1/licenses/status', typed)).statusCode).toBe(200);
  });

  test('the license key never appears in a later response', async () => {
    const purchase = await buy(store);
    const laptop = await deviceKey();
    const responses = [
      await keyGet(store, '/v1/licenses/status', purchase.key),
      await keyGet(store, '/v1/licenses/token', purchase.key),
      await activate(store, purchase.key, laptop),
      await keyPost(store, '/v1/licenses/refresh', purchase.key, {}),
      await keyPost(store, '/v1/licenses/refresh', undefined, { token: purchase.token }),
      await keyPost(store, '/v1/licenses/plan', purchase.key, {
        planId: 'team-yearly',
        confirm: false,
      }),
      await keyPost(store, '/v1/licenses/deactivate', purchase.key, {
        thumbprint: laptop.thumbprint,
      }),
      await keyPost(store, '/v1/licenses/cancel', purchase.key, {}),
      await store.app.inject({ url: '/v1/products' }),
    ];
    const compact = purchase.key.replace(/-/g, '');
    for (const response of responses) {
      expect(response.statusCode, response.body).toBeLessThan(300);
      expect(response.body.includes(purchase.key)).toBe(false);
      expect(response.body.includes(compact)).toBe(false);
      expect(JSON.stringify(response.headers).includes(compact)).toBe(false);
    }
  });

  test('idempotency: a replay gets the same response, another request under the key 409', async () => {
    const key = randomUUID();
    const body = { productId: 'photon', planId: 'pro-monthly', email: 'replay@example.com' };
    const first = await checkoutRequest(store, body, key);
    expect(first.statusCode).toBe(201);
    const replay = await checkoutRequest(
      store,
      { email: body.email, planId: body.planId, productId: body.productId },
      key,
    );
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    const other = await checkoutRequest(store, { ...body, planId: 'lifetime' }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('IDEMPOTENCY_CONFLICT');
    const orders = await store.db.query(
      `SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1`,
      [body.email],
    );
    expect(orders).toHaveLength(1);

    const missing = await store.app.inject({ method: 'POST', url: '/v1/checkout', payload: body });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    const badKey = await checkoutRequest(store, body, 'has spaces');
    expect(badKey.statusCode).toBe(400);
  });

  test('ten concurrent identical checkouts make exactly one order and one response', async () => {
    const key = randomUUID();
    const body = { productId: 'photon', planId: 'pro-monthly', email: 'burst@example.com' };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => checkoutRequest(store, body, key)),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(10).fill(201));
    const bodies = new Set(answers.map((answer) => answer.body));
    expect(bodies.size).toBe(1);
    expect(answers.filter((answer) => answer.headers['idempotent-replayed']).length).toBe(9);
    const orders = await store.db.query(
      `SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1`,
      [body.email],
    );
    expect(orders).toHaveLength(1);
    const licenses = await store.db.query(
      `SELECT l.id FROM licenses l JOIN customers c ON c.id = l.customer_id WHERE c.email = $1`,
      [body.email],
    );
    expect(licenses).toHaveLength(1);
  });

  test('a trial: once per customer and product, no charge, access trial until the trial end', async () => {
    const email = `Trial-${randomUUID()}@Example.com`;
    const trial = await buy(store, { trial: true, email });
    expect(trial.body).toMatchObject({
      order: { kind: 'trial', amount: 0, status: 'paid' },
      license: { status: 'trialing' },
    });
    const claims = claimsOf(trial.token!);
    expect(claims.access).toBe('trial');
    expect(claims.exp).toBe(Math.floor((store.clock.now().getTime() + 14 * DAY_MS) / 1000));
    expect((await (await storeVerifier(store)).verify(trial.token!)).status).toBe('trial');
    const status = (await keyGet(store, '/v1/licenses/status', trial.key)).json();
    expect(status).toMatchObject({ status: 'trialing', trialEndsAt: status.expiresAt });

    const again = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'pro-monthly',
      email: email.toLowerCase(),
      trial: true,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('TRIAL_USED');
    // Buying without a trial is fine.
    expect((await buy(store, { email })).body).toMatchObject({ order: { amount: 1500 } });
    const noTrial = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'lifetime',
      email: 'lifetime-trial@example.com',
      trial: true,
    });
    expect(noTrial.statusCode).toBe(400);
  });

  test('concurrent trials of one customer: exactly one succeeds', async () => {
    const email = `race-${randomUUID()}@example.com`;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        checkoutRequest(store, { productId: 'photon', planId: 'pro-monthly', email, trial: true }),
      ),
    );
    const codes = answers.map((answer) => answer.statusCode).sort();
    expect(codes).toEqual([201, 409, 409, 409, 409]);
  });

  test('manual provider: pending, 402 with the portal pay page until an admin marks it paid', async () => {
    const purchase = await buy(store, { provider: 'manual' });
    expect(purchase.body).toMatchObject({
      order: { status: 'pending', amount: 1500, test: false },
      license: { status: 'pending', test: false },
      test: false,
    });
    expect(purchase.token).toBeUndefined();
    const device = await deviceKey();
    const activation = await activate(store, purchase.key, device);
    expect(activation.statusCode).toBe(402);
    expect(activation.json()).toMatchObject({
      error: { code: 'PAYMENT_REQUIRED' },
      // The same license is paid there (by the admin's invoice here): not a second one.
      checkoutUrl: 'http://store.test/portal/pay',
    });
    const refresh = await keyPost(store, '/v1/licenses/refresh', purchase.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().checkoutUrl).toBe('http://store.test/portal/pay');
    const status = await keyGet(store, '/v1/licenses/status', purchase.key);
    expect(status.statusCode).toBe(402);
    expect(status.json()).toEqual({
      error: { code: 'PAYMENT_REQUIRED', message: expect.any(String) },
      subscribeUrl: 'http://store.test/products/photon',
    });
    expect(await eventsOf(store, purchase.licenseId)).toEqual([]);

    store.clock.advance(3 * DAY_MS);
    const paidAt = store.clock.now();
    const paid = await markOrderPaid(context(store), purchase.orderId);
    expect(paid).toMatchObject({
      order: { status: 'paid' },
      license: { status: 'active' },
      changed: true,
    });
    expect((await markOrderPaid(context(store), purchase.orderId)).changed).toBe(false);
    await expect(markOrderPaid(context(store), 'ord_nope')).rejects.toMatchObject({
      code: 'ORDER_NOT_FOUND',
    });
    const activated = await activate(store, purchase.key, device);
    expect(activated.statusCode).toBe(200);
    // The first period starts when the order is paid.
    const monthLater = Date.UTC(
      paidAt.getUTCFullYear(),
      paidAt.getUTCMonth() + 1,
      paidAt.getUTCDate(),
      paidAt.getUTCHours(),
    );
    expect(claimsOf(activated.json().token).exp).toBe(monthLater / 1000);
    expect((await eventsOf(store, purchase.licenseId)).map((event) => event.type)).toEqual([
      'license.created',
    ]);
  });

  test('unknown products, plans and providers; hostile bodies', async () => {
    const base = { productId: 'photon', planId: 'pro-monthly', email: 'hostile@example.com' };
    expect((await checkoutRequest(store, { ...base, productId: 'nope' })).statusCode).toBe(404);
    expect((await checkoutRequest(store, { ...base, planId: 'nope' })).json().error.code).toBe(
      'PLAN_NOT_FOUND',
    );
    expect((await checkoutRequest(store, { ...base, provider: 'stripe' })).statusCode).toBe(400);
    expect((await checkoutRequest(store, { ...base, email: 'not-an-email' })).statusCode).toBe(400);
    for (const body of [
      { ...base, extra: true },
      { ...base, seats: '2' },
      { ...base, seats: 0 },
      { ...base, trial: 'yes' },
      { ...base, format: 'xml' },
      { ...base, productId: '../etc' },
      [],
      null,
    ]) {
      const answer = await checkoutRequest(store, body as Record<string, unknown>);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
    }
    const huge = await checkoutRequest(store, {
      ...base,
      email: `${'a'.repeat(9000)}@example.com`,
    });
    expect(huge.statusCode).toBe(413);
    const form = await store.app.inject({
      method: 'POST',
      url: '/v1/checkout',
      headers: {
        'idempotency-key': randomUUID(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'productId=photon&planId=pro-monthly&email=a%40b.co',
    });
    expect(form.statusCode).toBe(415);
    const notJson = await store.app.inject({
      method: 'POST',
      url: '/v1/checkout',
      headers: { 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
      payload: '{"productId":',
    });
    expect(notJson.statusCode).toBe(400);
  });
});
