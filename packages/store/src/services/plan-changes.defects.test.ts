import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { ordersRepository } from '../repositories/orders.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy, context, DAY_MS } from '../testing/licensing.js';
import { markOrderPaid } from './checkout.js';
import { changePlan } from './plan-changes.js';

// April has 30 days.
const START = Date.UTC(2026, 3, 1);

describe.skipIf(postgresUnavailable)('an immediate plan change whose order is pending', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({ clock: new ManualClock(START) });
  });
  afterAll(async () => store?.close());

  // A second confirmation (a retry, another tab) placed a second order for the change while
  // the first was still pending; both were charged, and only the first applied (the second
  // no longer matched the license's plan): the customer paid twice for one change.
  test('a second immediate change is refused until the first order is settled', async () => {
    const ctx = context(store);
    const monthly = await buy(store, { planId: 'pro-monthly', provider: 'manual' });
    await markOrderPaid(ctx, monthly.orderId);
    store.clock.set(START + 20 * DAY_MS);

    const first = await changePlan(ctx, monthly.licenseId, { planId: 'pro-yearly', confirm: true });
    expect(first.order).toMatchObject({ kind: 'upgrade', status: 'pending' });
    for (const planId of ['pro-yearly', 'lifetime']) {
      await expect(
        changePlan(ctx, monthly.licenseId, { planId, confirm: true }),
      ).rejects.toMatchObject({ code: 'PLAN_CHANGE_INVALID' });
    }
    const orders = await ordersRepository(store.db).ofLicense(monthly.licenseId);
    expect(orders.filter((order) => order.kind === 'upgrade')).toHaveLength(1);

    // Paid, the change applies; after it a new change may be placed again.
    await markOrderPaid(ctx, first.order!.id);
    const next = await changePlan(ctx, monthly.licenseId, { planId: 'lifetime', confirm: false });
    expect(next).toMatchObject({ kind: 'upgrade', confirmed: false });
  });
});
