import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy, context, DAY_MS } from '../testing/licensing.js';
import { markOrderPaid } from './checkout.js';
import { cancelLicense, changePlan, changeSeats } from './plan-changes.js';

// April has 30 days.
const START = Date.UTC(2026, 3, 1);
const DAY_20 = START + 20 * DAY_MS;

/**
 * The payment of an upgrade (or seat) order arrives after the customer scheduled a
 * cancellation or a downgrade: what they asked last is kept. The order supersedes only what
 * was scheduled before it was placed.
 */
describe.skipIf(postgresUnavailable)(
  'a change scheduled while an upgrade waits for its payment',
  () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await buildTestStore({ clock: new ManualClock(START) });
    });
    afterAll(async () => store?.close());

    /** An active license of `planId`, paid by invoice (manual): its upgrades wait for an admin. */
    async function activeLicense(planId: string) {
      store.clock.set(START);
      const bought = await buy(store, { planId, provider: 'manual' });
      await markOrderPaid(context(store), bought.orderId);
      store.clock.set(DAY_20);
      return bought.licenseId;
    }
    const licenseOf = async (id: string) => (await licensesRepository(store.db).byId(id))!;

    test('a cancellation made after the upgrade was ordered survives its payment', async () => {
      const ctx = context(store);
      const licenseId = await activeLicense('pro-monthly');
      // Month → year: at once, a new yearly period from the payment's quote.
      const upgrade = await changePlan(ctx, licenseId, { planId: 'pro-yearly', confirm: true });
      expect(upgrade.order).toMatchObject({ kind: 'upgrade', status: 'pending' });
      store.clock.advance(DAY_MS);
      await cancelLicense(ctx, licenseId);

      store.clock.advance(DAY_MS);
      await markOrderPaid(ctx, upgrade.order!.id);
      const license = await licenseOf(licenseId);
      // The year paid for applies; the license still ends with it, as the customer asked.
      expect(license.planId).toBe('pro-yearly');
      expect(license.periodEnd!.toISOString()).toBe('2027-04-21T00:00:00.000Z');
      expect(license.pendingChange).toEqual({
        kind: 'cancel',
        at: '2027-04-21T00:00:00.000Z',
        plan: 'free',
      });
      expect(license.cancelledAt).not.toBeNull();
    });

    test('a seat decrease scheduled after a seat increase was ordered survives its payment', async () => {
      const ctx = context(store);
      const licenseId = await activeLicense('team-yearly');
      const more = await changeSeats(ctx, licenseId, { seats: 8, confirm: true });
      expect(more.order).toMatchObject({ kind: 'seats', status: 'pending' });
      await changeSeats(ctx, licenseId, { seats: 3, confirm: true });

      await markOrderPaid(ctx, more.order!.id);
      const license = await licenseOf(licenseId);
      expect(license.seats).toBe(8);
      expect(license.pendingChange).toEqual({
        kind: 'seats',
        seats: 3,
        at: license.periodEnd!.toISOString(),
      });
    });

    test('a downgrade scheduled after the upgrade moves to the end of the new period', async () => {
      const ctx = context(store);
      const licenseId = await activeLicense('pro-monthly');
      const upgrade = await changePlan(ctx, licenseId, { planId: 'pro-yearly', confirm: true });
      await changePlan(ctx, licenseId, { planId: 'free', confirm: true });
      expect((await licenseOf(licenseId)).pendingChange).toMatchObject({
        kind: 'downgrade',
        at: '2026-05-01T00:00:00.000Z',
      });

      await markOrderPaid(ctx, upgrade.order!.id);
      const license = await licenseOf(licenseId);
      expect(license.planId).toBe('pro-yearly');
      expect(license.pendingChange).toEqual({
        kind: 'downgrade',
        plan: 'free',
        at: '2027-04-21T00:00:00.000Z',
      });
    });

    test('a change that means nothing on a one-time plan ends with the upgrade to it', async () => {
      const ctx = context(store);
      const licenseId = await activeLicense('pro-monthly');
      const upgrade = await changePlan(ctx, licenseId, { planId: 'lifetime', confirm: true });
      expect(upgrade.order).toMatchObject({ status: 'pending' });
      await cancelLicense(ctx, licenseId);

      await markOrderPaid(ctx, upgrade.order!.id);
      const license = await licenseOf(licenseId);
      // Nothing renews a lifetime license: no cancellation is left to make.
      expect(license.planId).toBe('lifetime');
      expect(license.pendingChange).toBeNull();
    });

    test('a change scheduled before the upgrade was ordered is superseded by it, as before', async () => {
      const ctx = context(store);
      const licenseId = await activeLicense('pro-monthly');
      await cancelLicense(ctx, licenseId);
      const upgrade = await changePlan(ctx, licenseId, { planId: 'pro-yearly', confirm: true });

      await markOrderPaid(ctx, upgrade.order!.id);
      const license = await licenseOf(licenseId);
      expect(license.planId).toBe('pro-yearly');
      expect(license.pendingChange).toBeNull();
      expect(license.cancelledAt).toBeNull();
    });
  },
);
