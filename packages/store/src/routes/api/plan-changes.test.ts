import { decodeDocument, prorate, readLicenseClaims } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import { runBillingCycle } from '../../services/billing.js';
import { markOrderPaid } from '../../services/checkout.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import {
  activate,
  buy,
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
const at = (date: string) => Math.floor(Date.parse(date) / 1000);

// April has 30 days: a monthly period bought on April 1 is exactly 30 days long.
const START = Date.UTC(2026, 3, 1);

describe.skipIf(postgresUnavailable)('plan changes, seats and cancellation', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await buildTestStore({ clock: new ManualClock(START) });
    await subscribeToEvents(store);
    const catalogue = catalogueRepository(store.db, 'http://store.test');
    await catalogue.upsertProduct({ id: 'widget', name: 'Widget' });
    const month = { currency: 'USD' };
    const quotas = { exports: { limit: 10, per: 'month' as const } };
    await catalogue.upsertPlan('widget', {
      id: 'free',
      name: 'Free',
      price: { amount: 0, ...month },
      interval: 'month',
      quotas,
      seats: 1,
    });
    await catalogue.upsertPlan('widget', {
      id: 'basic',
      name: 'Basic',
      price: { amount: 3000, ...month },
      interval: 'month',
      quotas,
      seats: 2,
      position: 1,
    });
    await catalogue.upsertPlan('widget', {
      id: 'plus',
      name: 'Plus',
      price: { amount: 6000, ...month },
      interval: 'month',
      entitlements: ['plus'],
      seats: 3,
      position: 2,
    });
    await catalogue.upsertPlan('widget', {
      id: 'yearly',
      name: 'Yearly',
      // More per month than Basic (3,333 vs 3,000): moving there is an upgrade.
      price: { amount: 40_000, ...month },
      interval: 'year',
      seats: 3,
      position: 3,
    });
    await catalogue.upsertPlan('widget', {
      id: 'forever',
      name: 'Forever',
      price: { amount: 50_000, ...month },
      interval: 'once',
      termDays: null,
      seats: 3,
      position: 4,
    });
    await catalogue.upsertProduct({ id: 'gadget', name: 'Gadget' });
    await catalogue.upsertPlan('gadget', {
      id: 'monthly',
      name: 'Monthly',
      price: { amount: 1000, ...month },
      interval: 'month',
      trialDays: 7,
    });
    await catalogue.upsertProduct({ id: 'crew', name: 'Crew' });
    await catalogue.upsertPlan('crew', {
      id: 'team',
      name: 'Team',
      price: { amount: 1000, ...month },
      interval: 'month',
      perSeat: true,
      seats: 2,
    });
  });
  afterAll(async () => store?.close());

  /** Each test starts on April 1 and moves forward from there. */
  const reset = () => store.clock.set(START);

  test('upgrade: the preview amount is the proration law, and the charge equals it', async () => {
    reset();
    const basic = await buy(store, { productId: 'widget', planId: 'basic' });
    store.clock.advance(20 * DAY_MS); // 10 of 30 days left
    const preview = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'plus',
      confirm: false,
    });
    expect(preview.statusCode).toBe(200);
    const expected = prorate({
      oldPrice: 3000,
      newPrice: 6000,
      periodStart: at('2026-04-01T00:00:00Z'),
      periodEnd: at('2026-05-01T00:00:00Z'),
      now: at('2026-04-21T00:00:00Z'),
    });
    expect(expected).toBe(1000);
    expect(preview.json()).toMatchObject({
      kind: 'upgrade',
      amount: 1000,
      currency: 'USD',
      effectiveAt: '2026-04-21T00:00:00.000Z',
      confirmed: false,
      pendingChange: null,
    });
    expect(preview.json().token).toBeUndefined();
    // A preview changes nothing.
    expect((await keyGet(store, '/v1/licenses/status', basic.key)).json().plan).toBe('basic');
    expect((await eventsOf(store, basic.licenseId)).map((event) => event.type)).toEqual([
      'license.created',
    ]);

    const applied = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'plus',
      confirm: true,
    });
    expect(applied.statusCode).toBe(200);
    expect(applied.json()).toMatchObject({
      kind: 'upgrade',
      amount: preview.json().amount,
      confirmed: true,
      order: { kind: 'upgrade', status: 'paid', amount: 1000, test: true },
    });
    const claims = claimsOf(applied.json().token);
    expect(claims).toMatchObject({ plan: 'plus', ent: ['plus'], quota: { seats: { limit: 3 } } });
    expect(claims.exp).toBe(at('2026-05-01T00:00:00Z'));
    expect(
      (await (await storeVerifier(store, { product: 'widget' })).verify(applied.json().token))
        .valid,
    ).toBe(true);
    const changed = (await eventsOf(store, basic.licenseId)).find(
      (event) => event.type === 'license.plan_changed',
    );
    expect(changed?.data).toMatchObject({
      kind: 'upgrade',
      fromPlan: 'basic',
      toPlan: 'plus',
      effectiveAt: '2026-04-21T00:00:00.000Z',
      amount: 1000,
    });
  });

  test('a $30 / 30-day plan bought 10 days before the cycle ends costs $10', async () => {
    reset();
    const free = await buy(store, { productId: 'widget', planId: 'free' });
    expect(free.body).toMatchObject({ order: { amount: 0, status: 'paid' } });
    store.clock.advance(20 * DAY_MS);
    const preview = await keyPost(store, '/v1/licenses/plan', free.key, {
      planId: 'basic',
      confirm: false,
    });
    expect(preview.json()).toMatchObject({ kind: 'upgrade', amount: 1000 });
    const applied = await keyPost(store, '/v1/licenses/plan', free.key, {
      planId: 'basic',
      confirm: true,
    });
    expect(applied.json().order.amount).toBe(1000);
  });

  test('downgrade waits for the period end: chg in tokens meanwhile, applied by the billing cycle', async () => {
    reset();
    const plus = await buy(store, { productId: 'widget', planId: 'plus' });
    store.clock.advance(5 * DAY_MS);
    const preview = await keyPost(store, '/v1/licenses/plan', plus.key, {
      planId: 'basic',
      confirm: false,
    });
    expect(preview.json()).toMatchObject({
      kind: 'downgrade',
      amount: 0,
      effectiveAt: '2026-05-01T00:00:00.000Z',
    });
    const applied = await keyPost(store, '/v1/licenses/plan', plus.key, {
      planId: 'basic',
      confirm: true,
    });
    expect(applied.json()).toMatchObject({
      pendingChange: { kind: 'downgrade', plan: 'basic', at: '2026-05-01T00:00:00.000Z' },
    });
    expect(applied.json().order).toBeUndefined();
    const chg = { kind: 'downgrade', plan: 'basic', at: at('2026-05-01T00:00:00Z') };
    expect(claimsOf(applied.json().token)).toMatchObject({ plan: 'plus', chg });
    const refreshed = await keyPost(store, '/v1/licenses/refresh', plus.key, {});
    expect(claimsOf(refreshed.json().token).chg).toEqual(chg);
    const verdict = await (await storeVerifier(store, { product: 'widget' })).verify(
      refreshed.json().token,
    );
    expect(verdict.pendingChange).toMatchObject({ kind: 'downgrade', plan: 'basic' });
    const event = (await eventsOf(store, plus.licenseId)).find(
      (candidate) => candidate.type === 'license.plan_changed',
    );
    expect(event?.data).toMatchObject({
      kind: 'downgrade',
      toPlan: 'basic',
      effectiveAt: '2026-05-01T00:00:00.000Z',
    });

    store.clock.set(Date.UTC(2026, 4, 1, 0, 1));
    await runBillingCycle(context(store), store.clock.now());
    const status = (await keyGet(store, '/v1/licenses/status', plus.key)).json();
    expect(status).toMatchObject({
      plan: 'basic',
      status: 'active',
      pendingChange: null,
      expiresAt: '2026-06-01T00:00:00.000Z',
    });
    const [renewal] = await store.db.query<{ amount_minor: number; plan_id: string }>(
      `SELECT amount_minor, plan_id FROM orders WHERE license_id = $1 AND kind = 'renewal'`,
      [plus.licenseId],
    );
    expect(renewal).toMatchObject({ amount_minor: 3000, plan_id: 'basic' });
    const after = claimsOf(
      (await keyPost(store, '/v1/licenses/refresh', plus.key, {})).json().token,
    );
    expect(after).toMatchObject({ plan: 'basic', exp: at('2026-06-01T00:00:00Z') });
    expect(after.chg).toBeUndefined();
  });

  test('cancel: chg with the effective date, undo, then the free plan at the period end', async () => {
    reset();
    const basic = await buy(store, { productId: 'widget', planId: 'basic' });
    store.clock.advance(DAY_MS);
    const cancelled = await keyPost(store, '/v1/licenses/cancel', basic.key, {});
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      status: 'active',
      effectiveAt: '2026-05-01T00:00:00.000Z',
      pendingChange: { kind: 'cancel', plan: 'free', at: '2026-05-01T00:00:00.000Z' },
    });
    expect(claimsOf(cancelled.json().token).chg).toEqual({
      kind: 'cancel',
      plan: 'free',
      at: at('2026-05-01T00:00:00Z'),
    });
    const events = await eventsOf(store, basic.licenseId);
    expect(events.find((event) => event.type === 'license.cancelled')?.data).toMatchObject({
      effectiveAt: '2026-05-01T00:00:00.000Z',
      fallbackPlan: 'free',
    });

    const undone = await keyPost(store, '/v1/licenses/cancel/undo', basic.key, {});
    expect(undone.statusCode).toBe(200);
    expect(claimsOf(undone.json().token).chg).toBeUndefined();
    expect((await keyPost(store, '/v1/licenses/cancel/undo', basic.key, {})).statusCode).toBe(409);
    // Cancelling without a body works too.
    const again = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/cancel',
      headers: { authorization: `Bearer ${basic.key}` },
    });
    expect(again.statusCode).toBe(200);

    store.clock.set(Date.UTC(2026, 4, 1, 0, 0, 30));
    await runBillingCycle(context(store), store.clock.now());
    const status = (await keyGet(store, '/v1/licenses/status', basic.key)).json();
    expect(status).toMatchObject({
      status: 'active',
      plan: 'free',
      seats: 1,
      pendingChange: null,
      expiresAt: '2026-06-01T00:00:00.000Z',
    });
    const token = claimsOf((await keyGet(store, '/v1/licenses/token', basic.key)).json().token);
    expect(token).toMatchObject({ plan: 'free', exp: at('2026-06-01T00:00:00Z') });
    expect(token.chg).toBeUndefined();
    // The free plan rolls over monthly without orders.
    store.clock.set(Date.UTC(2026, 5, 1, 0, 1));
    await runBillingCycle(context(store), store.clock.now());
    expect((await keyGet(store, '/v1/licenses/status', basic.key)).json().expiresAt).toBe(
      '2026-07-01T00:00:00.000Z',
    );
    const orders = await store.db.query<{ kind: string }>(
      'SELECT kind FROM orders WHERE license_id = $1 ORDER BY created_at',
      [basic.licenseId],
    );
    expect(orders.map((order) => order.kind)).toEqual(['purchase']);
    const fallback = (await eventsOf(store, basic.licenseId)).filter(
      (event) => event.type === 'license.plan_changed' && event.data.kind === 'cancel',
    );
    expect(fallback).toHaveLength(1);
    // Nothing left to cancel on a free plan.
    expect((await keyPost(store, '/v1/licenses/cancel', basic.key, {})).statusCode).toBe(409);
  });

  test('cancel without a free plan ends the license at the period end: 402 afterwards', async () => {
    reset();
    const gadget = await buy(store, { productId: 'gadget', planId: 'monthly' });
    await keyPost(store, '/v1/licenses/cancel', gadget.key, {});
    expect(
      claimsOf((await keyGet(store, '/v1/licenses/token', gadget.key)).json().token).chg,
    ).toEqual({
      kind: 'cancel',
      at: at('2026-05-01T00:00:00Z'),
    });
    store.clock.set(Date.UTC(2026, 4, 1, 1));
    await runBillingCycle(context(store), store.clock.now());
    const refresh = await keyPost(store, '/v1/licenses/refresh', gadget.key, {});
    expect(refresh.statusCode).toBe(402);
    expect(refresh.json().checkoutUrl).toBe('http://store.test/products/gadget?plan=monthly');
    const status = await keyGet(store, '/v1/licenses/status', gadget.key);
    expect(status.statusCode).toBe(402);
    expect(status.json().subscribeUrl).toBe('http://store.test/products/gadget');
  });

  test('a trial cancelled before its end falls to the free plan (or ends) without a charge', async () => {
    reset();
    const trial = await buy(store, { productId: 'gadget', planId: 'monthly', trial: true });
    const cancelled = await keyPost(store, '/v1/licenses/cancel', trial.key, {});
    expect(cancelled.json().effectiveAt).toBe('2026-04-08T00:00:00.000Z');
    expect(
      (await keyPost(store, '/v1/licenses/plan', trial.key, { planId: 'monthly', confirm: false }))
        .statusCode,
    ).toBe(409);
    store.clock.set(Date.UTC(2026, 3, 8, 1));
    await runBillingCycle(context(store), store.clock.now());
    expect((await keyPost(store, '/v1/licenses/refresh', trial.key, {})).statusCode).toBe(402);
    const orders = await store.db.query(
      'SELECT 1 FROM orders WHERE license_id = $1 AND amount_minor > 0',
      [trial.licenseId],
    );
    expect(orders).toHaveLength(0);
  });

  test('month → year: credit for the unused month, the full year charged, a new period from now', async () => {
    reset();
    const basic = await buy(store, { productId: 'widget', planId: 'basic' });
    store.clock.advance(20 * DAY_MS);
    const preview = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'yearly',
      confirm: false,
    });
    expect(preview.json()).toMatchObject({ kind: 'upgrade', amount: 40_000 - 1000 });
    const applied = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'yearly',
      confirm: true,
    });
    expect(applied.json().order.amount).toBe(39_000);
    const status = (await keyGet(store, '/v1/licenses/status', basic.key)).json();
    expect(status.expiresAt).toBe('2027-04-21T00:00:00.000Z');
    // The token never outlives the issuer certificate (a year from the store's start).
    const [certificate] = (await store.app.inject({ url: '/v1/keys' })).json().issuers;
    expect(claimsOf(applied.json().token).exp).toBe(at(certificate.expiresAt));
    // Back to monthly waits for the end of the year.
    const back = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'plus',
      confirm: false,
    });
    expect(back.json()).toMatchObject({
      kind: 'switch',
      amount: 0,
      effectiveAt: '2027-04-21T00:00:00.000Z',
    });
  });

  test('to a one-time plan: its price less the credit, and no expiry afterwards', async () => {
    reset();
    const basic = await buy(store, { productId: 'widget', planId: 'basic' });
    store.clock.advance(20 * DAY_MS);
    const applied = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'forever',
      confirm: true,
    });
    expect(applied.json()).toMatchObject({ kind: 'upgrade', amount: 49_000 });
    const claims = claimsOf(applied.json().token);
    expect(claims.exp).toBeUndefined();
    expect(claims.rfa).toBe(claims.iat + 86_400);
    expect((await keyGet(store, '/v1/licenses/status', basic.key)).json().expiresAt).toBeNull();
    expect((await keyPost(store, '/v1/licenses/cancel', basic.key, {})).statusCode).toBe(409);
    expect(
      (await keyPost(store, '/v1/licenses/plan', basic.key, { planId: 'basic', confirm: false }))
        .statusCode,
    ).toBe(409);
  });

  test('seats: more at once with the prorated difference, fewer at the period end', async () => {
    reset();
    const crew = await buy(store, { productId: 'crew', planId: 'team', seats: 2 });
    expect(crew.body).toMatchObject({ order: { amount: 2000 } });
    store.clock.advance(20 * DAY_MS);
    const preview = await keyPost(store, '/v1/licenses/seats', crew.key, {
      seats: 4,
      confirm: false,
    });
    expect(preview.json()).toMatchObject({ kind: 'upgrade', amount: 667, seats: 4 });
    const more = await keyPost(store, '/v1/licenses/seats', crew.key, { seats: 4, confirm: true });
    expect(more.json()).toMatchObject({ order: { kind: 'seats', amount: 667 } });
    expect(claimsOf(more.json().token).quota.seats).toEqual({ limit: 4 });

    const devices = await Promise.all([deviceKey(), deviceKey(), deviceKey()]);
    for (const device of devices) {
      expect((await activate(store, crew.key, device)).statusCode).toBe(200);
    }
    const tooFew = await keyPost(store, '/v1/licenses/seats', crew.key, {
      seats: 2,
      confirm: true,
    });
    expect(tooFew.statusCode).toBe(409);
    expect(tooFew.json().error.code).toBe('SEATS_IN_USE');
    await keyPost(store, '/v1/licenses/deactivate', crew.key, {
      thumbprint: devices[0]!.thumbprint,
    });
    const fewer = await keyPost(store, '/v1/licenses/seats', crew.key, { seats: 2, confirm: true });
    expect(fewer.json()).toMatchObject({
      kind: 'downgrade',
      pendingChange: { kind: 'seats', seats: 2, at: '2026-05-01T00:00:00.000Z' },
    });
    expect(claimsOf(fewer.json().token)).toMatchObject({
      quota: { seats: { limit: 4 } },
      chg: { kind: 'seats', seats: 2, at: at('2026-05-01T00:00:00Z') },
    });
    store.clock.set(Date.UTC(2026, 4, 1, 0, 5));
    await runBillingCycle(context(store), store.clock.now());
    expect((await keyGet(store, '/v1/licenses/status', crew.key)).json()).toMatchObject({
      seats: 2,
      devicesInUse: 2,
    });
    const [renewal] = await store.db.query<{ amount_minor: number }>(
      `SELECT amount_minor FROM orders WHERE license_id = $1 AND kind = 'renewal'`,
      [crew.licenseId],
    );
    expect(renewal!.amount_minor).toBe(2000);
    expect(
      (await keyPost(store, '/v1/licenses/seats', crew.key, { seats: 2, confirm: false }))
        .statusCode,
    ).toBe(409);
    const fixed = await buy(store, { productId: 'widget', planId: 'basic' });
    expect(
      (await keyPost(store, '/v1/licenses/seats', fixed.key, { seats: 5, confirm: false })).json()
        .error.code,
    ).toBe('PLAN_CHANGE_INVALID');
  });

  test('an upgrade through the manual provider applies when the order is paid', async () => {
    reset();
    const basic = await buy(store, { productId: 'widget', planId: 'basic', provider: 'manual' });
    await markOrderPaid(context(store), basic.orderId);
    store.clock.advance(20 * DAY_MS);
    const applied = await keyPost(store, '/v1/licenses/plan', basic.key, {
      planId: 'plus',
      confirm: true,
    });
    expect(applied.json()).toMatchObject({
      order: { status: 'pending', amount: 1000, test: false },
      pendingChange: null,
    });
    expect(applied.json().token).toBeUndefined();
    expect((await keyGet(store, '/v1/licenses/status', basic.key)).json().plan).toBe('basic');
    await markOrderPaid(context(store), applied.json().order.id);
    expect((await keyGet(store, '/v1/licenses/status', basic.key)).json().plan).toBe('plus');
  });

  test('bad plan-change requests', async () => {
    reset();
    const basic = await buy(store, { productId: 'widget', planId: 'basic' });
    const post = (body: unknown) => keyPost(store, '/v1/licenses/plan', basic.key, body);
    expect((await post({ planId: 'nope', confirm: false })).json().error.code).toBe(
      'PLAN_NOT_FOUND',
    );
    expect((await post({ planId: 'basic', confirm: false })).statusCode).toBe(409);
    expect((await post({ planId: 'plus' })).statusCode).toBe(400);
    expect((await post({ planId: 'plus', confirm: 'yes' })).statusCode).toBe(400);
    expect((await post({ planId: 'plus', confirm: false, extra: 1 })).statusCode).toBe(400);
    expect((await post({ planId: 'plus', seats: 3, confirm: false })).statusCode).toBe(400);
    expect(
      (await keyPost(store, '/v1/licenses/plan', undefined, { planId: 'plus', confirm: false }))
        .statusCode,
    ).toBe(401);
  });
});
