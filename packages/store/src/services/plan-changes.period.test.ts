import { prorate } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { licensesRepository } from '../repositories/licenses.js';
import { ordersRepository } from '../repositories/orders.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy, context, DAY_MS } from '../testing/licensing.js';
import { runBillingCycle } from './billing.js';
import { markOrderPaid } from './checkout.js';
import type { PlanChangeOutcome } from './plan-changes.js';
import { changePlan, changeSeats } from './plan-changes.js';

// April has 30 days: a monthly period bought on April 1 ends on May 1.
const START = Date.UTC(2026, 3, 1);
const DAY_20 = START + 20 * DAY_MS;
const MAY_1 = Date.UTC(2026, 4, 1);
const JUNE_1 = Date.UTC(2026, 5, 1);
const at = (ms: number) => Math.floor(ms / 1000);

/**
 * An immediate upgrade or seat increase is priced for what is left of the period it is
 * placed in. Its order, paid by invoice (manual) or by a processor that reports later, may
 * still be pending when that period ends. It used to stay payable: paid after a paid
 * renewal it applied the new plan to the whole new period at the old period's prorated
 * price (the vendor lost the difference); paid after the license went past due it applied
 * nothing (the customer lost the money). Such an order is now cancelled when its period
 * ends, and the customer can order the change again, priced for the new period.
 */
describe.skipIf(postgresUnavailable)(
  'a plan-change order still pending when its period ends',
  () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await buildTestStore({ clock: new ManualClock(START) });
      const catalogue = catalogueRepository(store.db, 'http://store.test');
      const price = (amount: number) => ({ amount, currency: 'USD' });
      await catalogue.upsertProduct({ id: 'quill', name: 'Quill' });
      await catalogue.upsertPlan('quill', {
        id: 'basic',
        name: 'Basic',
        price: price(3000),
        interval: 'month',
        seats: 1,
      });
      await catalogue.upsertPlan('quill', {
        id: 'plus',
        name: 'Plus',
        price: price(6000),
        interval: 'month',
        seats: 1,
        position: 1,
      });
      await catalogue.upsertPlan('quill', {
        id: 'team',
        name: 'Team',
        price: price(1000),
        interval: 'month',
        perSeat: true,
        seats: 2,
        position: 2,
      });
    });
    afterAll(async () => store?.close());

    /** A license bought on April 1 by invoice (manual) and paid: April 1 – May 1. */
    async function paidLicense(planId: string): Promise<string> {
      store.clock.set(START);
      const bought = await buy(store, { productId: 'quill', planId, provider: 'manual' });
      await markOrderPaid(context(store), bought.orderId);
      return bought.licenseId;
    }
    /** On day 20, an immediate change whose order waits for an admin. */
    async function pendingChange(licenseId: string, kind: 'upgrade' | 'seats') {
      store.clock.set(DAY_20);
      const ctx = context(store);
      const change: PlanChangeOutcome =
        kind === 'upgrade'
          ? await changePlan(ctx, licenseId, { planId: 'plus', confirm: true })
          : await changeSeats(ctx, licenseId, { seats: 4, confirm: true });
      expect(change.order).toMatchObject({ kind, status: 'pending' });
      return change.order!.id;
    }
    /** The billing job on May 2: the April period has ended, the renewal (manual) waits. */
    async function endApril() {
      store.clock.set(MAY_1 + DAY_MS);
      await runBillingCycle(context(store), store.clock.now());
    }
    const licenseOf = async (id: string) => (await licensesRepository(store.db).byId(id))!;
    const orderOf = async (id: string) => (await ordersRepository(store.db).byId(id))!;
    const renewalOf = async (licenseId: string) =>
      (await ordersRepository(store.db).ofLicense(licenseId)).find(
        (order) => order.kind === 'renewal',
      )!;

    test('after a paid renewal, the April upgrade is cancelled and cannot apply to May', async () => {
      const ctx = context(store);
      const licenseId = await paidLicense('basic');
      const upgradeId = await pendingChange(licenseId, 'upgrade');
      // Priced for the 10 days left of April: (6000 − 3000) × 10 / 30.
      expect((await orderOf(upgradeId)).amount).toBe(1000);

      await endApril();
      await markOrderPaid(ctx, (await renewalOf(licenseId)).id);
      expect(await licenseOf(licenseId)).toMatchObject({
        status: 'active',
        planId: 'basic',
        periodEnd: new Date(JUNE_1),
      });
      expect((await orderOf(upgradeId)).status).toBe('cancelled');

      // Before: marked paid now, it put the license on Plus for all of May for $10.00.
      await expect(markOrderPaid(ctx, upgradeId)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await licenseOf(licenseId)).planId).toBe('basic');

      // The customer orders the upgrade again, priced for what is left of May (11 of 31 days).
      store.clock.set(Date.UTC(2026, 4, 21));
      const again = await changePlan(ctx, licenseId, { planId: 'plus', confirm: true });
      const fresh = prorate({
        oldPrice: 3000,
        newPrice: 6000,
        periodStart: at(MAY_1),
        periodEnd: at(JUNE_1),
        now: at(Date.UTC(2026, 4, 21)),
      });
      expect(again.order).toMatchObject({ kind: 'upgrade', status: 'pending', amount: fresh });
      await markOrderPaid(ctx, again.order!.id);
      expect((await licenseOf(licenseId)).planId).toBe('plus');
    });

    for (const kind of ['upgrade', 'seats'] as const) {
      test(`a past-due license's pending ${kind} order is cancelled, not paid for nothing`, async () => {
        const ctx = context(store);
        const licenseId = await paidLicense(kind === 'upgrade' ? 'basic' : 'team');
        const before = await licenseOf(licenseId);
        const orderId = await pendingChange(licenseId, kind);

        await endApril();
        expect((await licenseOf(licenseId)).status).toBe('past_due');
        expect((await orderOf(orderId)).status).toBe('cancelled');
        // Before: the order stayed payable, and its payment applied nothing to a past-due license.
        await expect(markOrderPaid(ctx, orderId)).rejects.toMatchObject({ code: 'CONFLICT' });

        // Once the renewal is paid, the change can be ordered again (no earlier order waits).
        await markOrderPaid(ctx, (await renewalOf(licenseId)).id);
        expect(await licenseOf(licenseId)).toMatchObject({
          status: 'active',
          planId: before.planId,
          seats: before.seats,
        });
        const again =
          kind === 'upgrade'
            ? await changePlan(ctx, licenseId, { planId: 'plus', confirm: true })
            : await changeSeats(ctx, licenseId, { seats: 4, confirm: true });
        expect(again.order).toMatchObject({ kind, status: 'pending' });
      });
    }

    test('an upgrade paid within the period it was ordered in applies, and renews on its plan', async () => {
      const ctx = context(store);
      const licenseId = await paidLicense('basic');
      const upgradeId = await pendingChange(licenseId, 'upgrade');
      expect((await orderOf(upgradeId)).details.quotedFor).toBe(new Date(MAY_1).toISOString());

      store.clock.set(START + 25 * DAY_MS);
      await markOrderPaid(ctx, upgradeId);
      expect((await licenseOf(licenseId)).planId).toBe('plus');

      await endApril();
      const renewal = await renewalOf(licenseId);
      expect(renewal).toMatchObject({ planId: 'plus', amount: 6000, status: 'pending' });
    });

    test('paid, an order quoted for another period applies nothing; one without a period applies', async () => {
      const ctx = context(store);
      const setQuotedFor = (orderId: string, quotedFor: string | null) =>
        store.db.query(
          `UPDATE orders SET details = CASE WHEN $2::text IS NULL THEN details - 'quotedFor'
            ELSE details || jsonb_build_object('quotedFor', $2::text) END WHERE id = $1`,
          [orderId, quotedFor],
        );

      // Quoted for a period that is not the license's (were it left pending past its end).
      const stale = await paidLicense('basic');
      const staleOrder = await pendingChange(stale, 'upgrade');
      await setQuotedFor(staleOrder, new Date(START).toISOString());
      await markOrderPaid(ctx, staleOrder);
      expect((await licenseOf(stale)).planId).toBe('basic');

      // Placed before orders recorded their period: the terms are checked as before.
      const legacy = await paidLicense('basic');
      const legacyOrder = await pendingChange(legacy, 'upgrade');
      await setQuotedFor(legacyOrder, null);
      await markOrderPaid(ctx, legacyOrder);
      expect((await licenseOf(legacy)).planId).toBe('plus');
    });
  },
);
