import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN, createCustomer, createLicense, createOrder } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { buy } from '../../testing/licensing.js';

describe.skipIf(postgresUnavailable)('admin API', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      licensing: { billing: { enabled: false } },
    });
  });
  afterAll(async () => store?.close());

  const admin = (method: string, url: string, payload?: object) =>
    store.app.inject({
      method: method as 'GET',
      url,
      headers: ADMIN,
      ...(payload ? { payload } : {}),
    });

  test('every admin route answers 401 without the admin token, before reading the body', async () => {
    const { paths } = (await store.app.inject({ url: '/docs' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(paths)
      .filter(([path]) => path.startsWith('/v1/admin'))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => [method, path] as const));
    expect(routes.length).toBeGreaterThanOrEqual(23);
    for (const [method, path] of routes) {
      const url = path.replace(/\{[^}]+\}/g, 'x');
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token' },
        { authorization: 'Basic dGVzdC1hZG1pbi10b2tlbg==' },
        { authorization: 'test-admin-token' },
      ]) {
        const response = await store.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { ...headers, 'content-type': 'application/json' },
          ...(method === 'get' || method === 'delete' ? {} : { payload: '{"not": "read"' }),
        });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        expect(response.json().error.code).toBe('ADMIN_TOKEN_INVALID');
      }
    }
  });

  test('products and plans: create, update, deactivate', async () => {
    const created = await admin('POST', '/v1/admin/products', {
      id: 'lumen',
      name: 'Lumen',
      description: 'A light meter.',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      id: 'lumen',
      name: 'Lumen',
      description: 'A light meter.',
      plans: [],
    });
    const renamed = await admin('POST', '/v1/admin/products', { id: 'lumen', name: 'Lumen 2' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe('Lumen 2');

    const plan = {
      id: 'pro',
      name: 'Pro',
      price: { amount: 900, currency: 'EUR' },
      interval: 'month',
      quotas: { meters: { limit: 100, per: 'day' } },
      entitlements: ['spot'],
    };
    const addPlan = await admin('POST', '/v1/admin/products/lumen/plans', plan);
    expect(addPlan.statusCode).toBe(201);
    expect(addPlan.json().plans[0]).toMatchObject({
      id: 'pro',
      active: true,
      price: { amount: 900, currency: 'EUR' },
      quotas: { meters: { limit: 100, per: 'day' } },
    });
    const repriced = await admin('POST', '/v1/admin/products/lumen/plans', {
      ...plan,
      price: { amount: 1200, currency: 'EUR' },
    });
    expect(repriced.statusCode).toBe(200);
    expect(repriced.json().plans[0].price.amount).toBe(1200);
    // The public catalogue shows it until it is deactivated.
    expect((await store.app.inject({ url: '/v1/products/lumen' })).json().plans).toHaveLength(1);
    const deactivated = await admin('DELETE', '/v1/admin/products/lumen/plans/pro');
    expect(deactivated.json().plans[0].active).toBe(false);
    expect((await store.app.inject({ url: '/v1/products/lumen' })).json().plans).toHaveLength(0);
    expect((await admin('POST', '/v1/admin/products/lumen/plans', plan)).statusCode).toBe(200);
    const product = await admin('DELETE', '/v1/admin/products/lumen');
    expect(product.json().plans.every((p: { active: boolean }) => !p.active)).toBe(true);

    const listed = await admin('GET', '/v1/admin/products');
    expect(listed.json().products.map((p: { id: string }) => p.id)).toContain('lumen');

    expect((await admin('DELETE', '/v1/admin/products/lumen/plans/nope')).json().error.code).toBe(
      'PLAN_NOT_FOUND',
    );
    expect((await admin('DELETE', '/v1/admin/products/nope')).json().error.code).toBe(
      'PRODUCT_NOT_FOUND',
    );
    expect((await admin('POST', '/v1/admin/products/nope/plans', plan)).json().error.code).toBe(
      'PRODUCT_NOT_FOUND',
    );
    for (const bad of [
      { ...plan, position: 2 ** 40 },
      { ...plan, price: { amount: 2 ** 60, currency: 'EUR' } },
      { ...plan, price: { amount: -1, currency: 'EUR' } },
      { ...plan, interval: 'fortnight' },
      { ...plan, quotas: { meters: { limit: 1, unlimited: true } } },
      { ...plan, id: 'Bad Id' },
      { ...plan, surprise: true },
      { ...plan, name: 42 },
      { ...plan, quotas: { 'bad name!': { limit: 1 } } },
      { ...plan, quotas: { seats: { limit: 3 } } },
      { ...plan, entitlements: ['spot', 'spot'] },
    ]) {
      const response = await admin('POST', '/v1/admin/products/lumen/plans', bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
      expect(response.json().error.code).toBe('BAD_REQUEST');
    }
    const huge = await admin('POST', '/v1/admin/products', {
      id: 'big',
      name: 'x',
      description: 'y'.repeat(20_000),
    });
    expect(huge.statusCode).toBe(413);
  });

  test('orders: filters, pagination, mark paid', async () => {
    const alice = await createCustomer(store.db, 'alice@example.test');
    const bob = await createCustomer(store.db, 'bob@example.test');
    const base = Date.UTC(2026, 0, 1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await createOrder(store.db, {
          customerId: i % 2 ? bob.id : alice.id,
          createdAt: new Date(base + i * 60_000),
        }),
      );
    }
    const paid = await createOrder(store.db, {
      customerId: alice.id,
      provider: 'test',
      status: 'paid',
      createdAt: new Date(base + 10 * 60_000),
    });

    const pending = await admin('GET', '/v1/admin/orders?status=pending&limit=2');
    expect(pending.statusCode).toBe(200);
    expect(pending.json().orders.map((o: { id: string }) => o.id)).toEqual([ids[4], ids[3]]);
    const next = await admin(
      'GET',
      `/v1/admin/orders?status=pending&limit=2&cursor=${pending.json().nextCursor}`,
    );
    expect(next.json().orders.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
    const last = await admin(
      'GET',
      `/v1/admin/orders?status=pending&limit=2&cursor=${next.json().nextCursor}`,
    );
    expect(last.json()).toMatchObject({ orders: [{ id: ids[0] }], nextCursor: null });

    const bobs = await admin('GET', '/v1/admin/orders?customerEmail=BOB@example.test');
    expect(bobs.json().orders).toHaveLength(2);
    expect(bobs.json().orders[0]).toMatchObject({
      customerEmail: 'bob@example.test',
      amount: { amount: 1500, currency: 'USD' },
      provider: 'manual',
    });
    const byProvider = await admin('GET', '/v1/admin/orders?provider=test');
    expect(byProvider.json().orders.map((o: { id: string }) => o.id)).toEqual([paid]);

    const marked = await admin('POST', `/v1/admin/orders/${ids[0]}/mark-paid`);
    expect(marked.statusCode).toBe(200);
    expect(marked.json().order).toMatchObject({
      id: ids[0],
      status: 'paid',
      paidAt: expect.any(String),
    });
    expect((await admin('POST', `/v1/admin/orders/${ids[0]}/mark-paid`)).statusCode).toBe(200);
    expect((await admin('GET', `/v1/admin/orders/${ids[0]}`)).json().status).toBe('paid');
    await store.db.query(`UPDATE orders SET status = 'cancelled' WHERE id = $1`, [ids[1]]);
    expect((await admin('POST', `/v1/admin/orders/${ids[1]}/mark-paid`)).statusCode).toBe(409);
    expect(
      (await admin('POST', '/v1/admin/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/mark-paid')).json().error
        .code,
    ).toBe('ORDER_NOT_FOUND');

    for (const query of [
      'status=shipped',
      'limit=0',
      'limit=1000',
      'limit=ten',
      'cursor=%%%',
      'cursor=bm90LWEtY3Vyc29y',
      'unknown=1',
    ]) {
      const response = await admin('GET', `/v1/admin/orders?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code).toBe('BAD_REQUEST');
    }
  });

  test('mark paid applies the order through the licensing part: the license starts', async () => {
    await admin('POST', '/v1/admin/webhooks', { url: 'https://hooks.example.test/paid' });
    const purchase = await buy(store, { provider: 'manual' });
    const before = await admin('GET', `/v1/admin/licenses/${purchase.licenseId}`);
    expect(before.json().license.status).toBe('pending');
    const marked = await admin('POST', `/v1/admin/orders/${purchase.orderId}/mark-paid`);
    expect(marked.statusCode).toBe(200);
    expect(marked.json()).toMatchObject({
      order: { id: purchase.orderId, status: 'paid', provider: 'manual' },
      license: { id: purchase.licenseId, status: 'active' },
      changed: true,
    });
    const again = await admin('POST', `/v1/admin/orders/${purchase.orderId}/mark-paid`);
    expect(again.json()).toMatchObject({ changed: false });
    const created = await store.db.query<{ payload: { data: { licenseId: string } } }>(
      `SELECT payload FROM webhook_outbox WHERE type = 'license.created'`,
    );
    expect(created.map((row) => row.payload.data.licenseId)).toContain(purchase.licenseId);
  });

  test('licenses: list, one with devices and quotas, unknown ids', async () => {
    const customer = await createCustomer(store.db, 'carol@example.test');
    const one = await createLicense(store.app, { customerId: customer.id });
    await createLicense(store.app, { customerId: customer.id, status: 'expired' });
    const listed = await admin('GET', '/v1/admin/licenses?customerEmail=carol@example.test');
    expect(listed.json().licenses).toHaveLength(2);
    expect(JSON.stringify(listed.json())).not.toContain(one.key);
    const expired = await admin(
      'GET',
      '/v1/admin/licenses?customerEmail=carol@example.test&status=expired',
    );
    expect(expired.json().licenses).toHaveLength(1);
    const detail = await admin('GET', `/v1/admin/licenses/${one.license.id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({
      license: { id: one.license.id, keyHint: one.key.slice(-4), status: 'active' },
      devices: [],
      tokens: { issued: 0, lastIssuedAt: null },
      quotas: { exports: { limit: 1000, used: 0 } },
    });
    expect((await admin('GET', '/v1/admin/licenses/lic_AAAAAAAAAAAAAAAAAAAAAA')).statusCode).toBe(
      404,
    );
    expect((await admin('GET', '/v1/admin/licenses/not-a-license')).statusCode).toBe(400);
    expect(
      (await admin('POST', '/v1/admin/licenses/lic_AAAAAAAAAAAAAAAAAAAAAA/revoke')).statusCode,
    ).toBe(404);
  });
});
