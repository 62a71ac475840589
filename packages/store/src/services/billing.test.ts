import { decodeDocument, readLicenseClaims } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import {
  activate,
  buy,
  context,
  DAY_MS,
  deviceKey,
  eventsOf,
  keyGet,
  keyPost,
  subscribeToEvents,
} from '../testing/licensing.js';
import { runBillingCycle, startBillingTimer } from './billing.js';
import { markOrderPaid } from './checkout.js';

const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));
const START = Date.UTC(2026, 0, 15, 12);
const at = (date: string) => Math.floor(Date.parse(date) / 1000);

describe.skipIf(postgresUnavailable)('billing cycle', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore();
    await subscribeToEvents(store);
  });
  afterAll(async () => store?.close());
  const reset = () => store.clock.set(START);

  const ordersOf = (licenseId: string) =>
    store.db.query<{ kind: string; status: string; amount_minor: number; id: string }>(
      'SELECT id, kind, status, amount_minor FROM orders WHERE license_id = $1 ORDER BY created_at, id',
      [licenseId],
    );

  test('renews a paid plan through the test provider at the period end', async () => {
    reset();
    const pro = await buy(store);
    store.clock.set(Date.UTC(2026, 1, 15, 12, 0, 1));
    const summary = await runBillingCycle(context(store), store.clock.now());
    expect(summary.failed).toBe(0);
    expect(summary.processed).toBeGreaterThanOrEqual(1);
    expect((await ordersOf(pro.licenseId)).map((o) => [o.kind, o.status, o.amount_minor])).toEqual([
      ['purchase', 'paid', 1500],
      ['renewal', 'paid', 1500],
    ]);
    const renewed = (await eventsOf(store, pro.licenseId)).find(
      (event) => event.type === 'license.renewed',
    );
    expect(renewed?.data).toMatchObject({
      periodStart: '2026-02-15T12:00:00.000Z',
      periodEnd: '2026-03-15T12:00:00.000Z',
      amount: 1500,
    });
    const token = (await keyPost(store, '/v1/licenses/refresh', pro.key, {})).json().token;
    // The billing anchor stays at the purchase: quota periods do not shift.
    expect(claimsOf(token)).toMatchObject({
      exp: at('2026-03-15T12:00:00Z'),
      anchor: at('2026-01-15T12:00:00Z'),
    });
    // Running again changes nothing.
    await runBillingCycle(context(store), store.clock.now());
    expect(await ordersOf(pro.licenseId)).toHaveLength(2);
  });

  test('a refresh after the period end renews first (no wait for the timer)', async () => {
    reset();
    const pro = await buy(store);
    store.clock.set(Date.UTC(2026, 2, 20));
    const refreshed = await keyPost(store, '/v1/licenses/refresh', pro.key, {});
    expect(refreshed.statusCode).toBe(200);
    // Two periods were owed (Feb 15 and Mar 15): both renewed, contiguously.
    expect(claimsOf(refreshed.json().token).exp).toBe(at('2026-04-15T12:00:00Z'));
    expect((await ordersOf(pro.licenseId)).filter((o) => o.kind === 'renewal')).toHaveLength(2);
  });

  test('manual renewals: past due and 402 until paid, then the period they were for', async () => {
    reset();
    const manual = await buy(store, { provider: 'manual' });
    await markOrderPaid(context(store), manual.orderId);
    const device = await deviceKey();
    expect((await activate(store, manual.key, device)).statusCode).toBe(200);
    store.clock.set(Date.UTC(2026, 1, 16));
    await runBillingCycle(context(store), store.clock.now());
    const status = await keyGet(store, '/v1/licenses/status', manual.key);
    expect(status.statusCode).toBe(402);
    const refresh = await keyPost(store, '/v1/licenses/refresh', manual.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().error.message).toMatch(/renewal/);
    expect((await activate(store, manual.key, device)).statusCode).toBe(402);
    const pending = (await ordersOf(manual.licenseId)).find((o) => o.status === 'pending')!;
    expect(pending).toMatchObject({ kind: 'renewal', amount_minor: 1500 });

    await markOrderPaid(context(store), pending.id);
    const paid = (await keyGet(store, '/v1/licenses/status', manual.key)).json();
    expect(paid).toMatchObject({ status: 'active', expiresAt: '2026-03-15T12:00:00.000Z' });
    expect((await eventsOf(store, manual.licenseId)).map((event) => event.type)).toEqual([
      'license.created',
      'license.renewed',
    ]);
  });

  test('a renewal paid after its period ended starts a new period at the payment', async () => {
    reset();
    const manual = await buy(store, { provider: 'manual' });
    await markOrderPaid(context(store), manual.orderId);
    store.clock.set(Date.UTC(2026, 1, 16));
    await runBillingCycle(context(store), store.clock.now());
    store.clock.set(Date.UTC(2026, 3, 2));
    await runBillingCycle(context(store), store.clock.now());
    const pending = (await ordersOf(manual.licenseId)).filter((o) => o.status === 'pending');
    expect(pending).toHaveLength(1);
    await markOrderPaid(context(store), pending[0]!.id);
    expect((await keyGet(store, '/v1/licenses/status', manual.key)).json().expiresAt).toBe(
      '2026-05-02T00:00:00.000Z',
    );
  });

  test('a trial converts at its end: charged, access full, billing anchored at the trial end', async () => {
    reset();
    const trial = await buy(store, { trial: true });
    store.clock.set(START + 14 * DAY_MS + 1000);
    await runBillingCycle(context(store), store.clock.now());
    const orders = await ordersOf(trial.licenseId);
    expect(orders.map((o) => [o.kind, o.amount_minor, o.status])).toEqual([
      ['trial', 0, 'paid'],
      ['renewal', 1500, 'paid'],
    ]);
    const token = claimsOf(
      (await keyPost(store, '/v1/licenses/refresh', trial.key, {})).json().token,
    );
    expect(token).toMatchObject({
      access: 'full',
      anchor: at('2026-01-29T12:00:00Z'),
      exp: at('2026-02-28T12:00:00Z'),
    });
  });

  test('a trial through the manual provider goes past due at its end', async () => {
    reset();
    const trial = await buy(store, { trial: true, provider: 'manual' });
    expect(trial.body).toMatchObject({ license: { status: 'trialing' } });
    expect(trial.token).toBeDefined();
    store.clock.set(START + 15 * DAY_MS);
    await runBillingCycle(context(store), store.clock.now());
    expect((await keyPost(store, '/v1/licenses/refresh', trial.key, {})).statusCode).toBe(402);
  });

  test("'once' plans with a term expire; lifetime plans never renew", async () => {
    reset();
    const pack = await buy(store, { productId: 'photon-presets', planId: 'pack-50' });
    expect(claimsOf(pack.token!).quota.downloads).toEqual({ limit: 50 });
    const lifetime = await buy(store, { planId: 'lifetime' });
    expect(claimsOf(lifetime.token!).exp).toBeUndefined();
    store.clock.set(START + 366 * DAY_MS);
    await runBillingCycle(context(store), store.clock.now());
    const refresh = await keyPost(store, '/v1/licenses/refresh', pack.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().error.message).toMatch(/expired/);
    const [row] = await store.db.query<{ status: string }>(
      'SELECT status FROM licenses WHERE id = $1',
      [lifetime.licenseId],
    );
    expect(row!.status).toBe('active');
    expect(await ordersOf(lifetime.licenseId)).toHaveLength(1);
  });

  test('concurrent billing runs renew each license once', async () => {
    reset();
    const purchases = await Promise.all([buy(store), buy(store), buy(store)]);
    store.clock.set(Date.UTC(2026, 1, 15, 13));
    await Promise.all([
      runBillingCycle(context(store), store.clock.now()),
      runBillingCycle(context(store), store.clock.now()),
      runBillingCycle(context(store), store.clock.now()),
    ]);
    for (const purchase of purchases) {
      expect((await ordersOf(purchase.licenseId)).filter((o) => o.kind === 'renewal')).toHaveLength(
        1,
      );
    }
  });

  test('the timer runs the cycle until stopped', async () => {
    reset();
    const pro = await buy(store);
    store.clock.set(Date.UTC(2026, 1, 15, 14));
    const timer = startBillingTimer(context(store), 10);
    try {
      for (let wait = 0; wait < 200; wait++) {
        if ((await ordersOf(pro.licenseId)).length === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await timer.stop();
    }
    expect((await ordersOf(pro.licenseId)).map((o) => o.kind)).toEqual(['purchase', 'renewal']);
  });
});
