import { decodeDocument, prorate, readLicenseClaims } from '@licensekit/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import type { Plan } from '../schemas/catalogue.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import {
  buy,
  checkoutRequest,
  context,
  DAY_MS,
  eventsOf,
  keyGet,
  keyPost,
  subscribeToEvents,
} from '../testing/licensing.js';
import { accessibilityProblems, formFields, PageClient, tags, textOf } from '../testing/pages.js';
import { formatMoney } from '../views/format.js';
import { runBillingCycle } from './billing.js';
import { cycleUpgradeCharge, isCycleSwitch, planOnCycle, twinOf } from './billing-cycles.js';

const at = (date: string) => Math.floor(Date.parse(date) / 1000);
const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));

describe('the charge of a switch to the yearly cycle', () => {
  const price = fc.integer({ min: 0, max: 10_000_000_00 });
  const switchInput = fc
    .record({
      currentTotal: price,
      yearlyTotal: price,
      periodStart: fc.integer({ min: 0, max: 4_000_000_000 }),
      length: fc.integer({ min: 1, max: 400 * 86_400 }),
      // From before the period to after it: clamping is part of the law.
      offset: fc.integer({ min: -86_400, max: 401 * 86_400 }),
    })
    .map(({ length, offset, ...rest }) => ({
      ...rest,
      periodEnd: rest.periodStart + length,
      now: rest.periodStart + offset,
    }));

  test('never negative, never more than the yearly price', () => {
    fc.assert(
      fc.property(switchInput, (input) => {
        const charge = cycleUpgradeCharge(input);
        expect(Number.isSafeInteger(charge)).toBe(true);
        expect(charge).toBeGreaterThanOrEqual(0);
        expect(charge).toBeLessThanOrEqual(input.yearlyTotal);
      }),
    );
  });

  test('equals the yearly price less core proration’s credit for the unused part', () => {
    fc.assert(
      fc.property(switchInput, (input) => {
        const credit = -prorate({
          oldPrice: input.currentTotal,
          newPrice: 0,
          periodStart: input.periodStart,
          periodEnd: input.periodEnd,
          now: input.now,
        });
        expect(cycleUpgradeCharge(input)).toBe(Math.max(0, input.yearlyTotal - credit));
      }),
    );
  });

  test('a later switch never costs less (less of the month is left to credit)', () => {
    fc.assert(
      fc.property(switchInput, fc.integer({ min: 0, max: 86_400 * 40 }), (input, later) => {
        expect(cycleUpgradeCharge({ ...input, now: input.now + later })).toBeGreaterThanOrEqual(
          cycleUpgradeCharge(input),
        );
      }),
    );
  });

  test('the ends of the period: the whole month credited at its start, nothing after its end', () => {
    fc.assert(
      fc.property(switchInput, (input) => {
        const { currentTotal, yearlyTotal } = input;
        expect(cycleUpgradeCharge({ ...input, now: input.periodStart })).toBe(
          Math.max(0, yearlyTotal - currentTotal),
        );
        expect(cycleUpgradeCharge({ ...input, now: input.periodEnd })).toBe(yearlyTotal);
      }),
    );
  });

  test('$15 a month with 10 of 30 days left, $150 a year: $145 now', () => {
    expect(
      cycleUpgradeCharge({
        currentTotal: 1500,
        yearlyTotal: 15_000,
        periodStart: 0,
        periodEnd: 30 * 86_400,
        now: 20 * 86_400,
      }),
    ).toBe(14_500);
  });
});

describe('twins and cycles', () => {
  const plan = (id: string, interval: Plan['interval'], extra: Partial<Plan> = {}): Plan => ({
    id,
    productId: 'p',
    name: id,
    description: '',
    price: { amount: 100, currency: 'USD' },
    interval,
    termDays: null,
    trialDays: 0,
    perSeat: false,
    seats: 1,
    quotas: {},
    entitlements: [],
    graceDays: 7,
    free: false,
    ...extra,
  });
  const monthly = plan('pro', 'month');
  const yearly = plan('pro-y', 'year', { yearlyOf: 'pro' });
  const single = plan('team', 'year');
  const once = plan('forever', 'once');
  const plans = [monthly, yearly, single, once];

  test('the twin of either side is the other', () => {
    expect(twinOf(monthly, plans)).toBe(yearly);
    expect(twinOf(yearly, plans)).toBe(monthly);
    expect(twinOf(single, plans)).toBeUndefined();
    expect(isCycleSwitch(monthly, yearly) && isCycleSwitch(yearly, monthly)).toBe(true);
    expect(isCycleSwitch(monthly, single)).toBe(false);
  });

  test('a plan on its own cycle (or none asked) is itself; the other cycle is its twin', () => {
    expect(planOnCycle(monthly, plans, undefined)).toBe(monthly);
    expect(planOnCycle(monthly, plans, 'month')).toBe(monthly);
    expect(planOnCycle(monthly, plans, 'year')).toBe(yearly);
    expect(planOnCycle(yearly, plans, 'month')).toBe(monthly);
  });

  test('a cycle the offer has no plan on is refused with its code', () => {
    expect(() => planOnCycle(single, plans, 'month')).toThrow(
      expect.objectContaining({ code: 'BILLING_CYCLE_NOT_OFFERED', status: 409 }),
    );
    expect(() => planOnCycle(once, plans, 'year')).toThrow(
      expect.objectContaining({ code: 'BILLING_CYCLE_NOT_OFFERED' }),
    );
    // A link to a plan that is not monthly is no twin.
    const odd = [plan('a', 'year'), plan('b', 'year', { yearlyOf: 'a' })];
    expect(() => planOnCycle(odd[1]!, odd, 'month')).toThrow(
      expect.objectContaining({ code: 'BILLING_CYCLE_NOT_OFFERED' }),
    );
  });
});

// April has 30 days: a monthly period bought on April 1 is exactly 30 days long.
const START = Date.UTC(2026, 3, 1);

describe.skipIf(postgresUnavailable)('billing cycles through the API (seeded Pro)', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({ clock: new ManualClock(START) });
    await subscribeToEvents(store);
  });
  afterAll(async () => store?.close());

  const status = async (key: string) => (await keyGet(store, '/v1/licenses/status', key)).json();
  const ledgerOf = async (orderId: string) =>
    store.db.query<{ account: string; amount_minor: string }>(
      'SELECT account, amount_minor FROM ledger_lines WHERE order_id = $1',
      [orderId],
    );
  const invoiceOf = async (orderId: string) =>
    (
      await store.db.query<{ number: string; total_minor: number | string }>(
        `SELECT number, total_minor FROM invoices WHERE order_id = $1 AND kind = 'invoice'`,
        [orderId],
      )
    )[0];

  test('the catalogue offers Pro both ways', async () => {
    const { products } = (await store.app.inject({ url: '/v1/products' })).json();
    const photon = products.find((p: { id: string }) => p.id === 'photon');
    const yearly = photon.plans.find((p: { id: string }) => p.id === 'pro-yearly');
    expect(yearly).toMatchObject({ interval: 'year', yearlyOf: 'pro-monthly' });
    expect(yearly.price).toEqual({ amount: 15_000, currency: 'USD' });
    const monthly = photon.plans.find((p: { id: string }) => p.id === 'pro-monthly');
    expect(monthly.yearlyOf).toBeUndefined();
  });

  test('checkout: monthly by default, yearly on request, each at its price and period', async () => {
    store.clock.set(START);
    const monthly = await buy(store, { planId: 'pro-monthly' });
    expect(monthly.body).toMatchObject({ order: { amount: 1500, status: 'paid' } });
    expect(await status(monthly.key)).toMatchObject({
      plan: 'pro-monthly',
      expiresAt: '2026-05-01T00:00:00.000Z',
    });

    const explicitMonth = await buy(store, { planId: 'pro-yearly', billingCycle: 'month' });
    expect((await status(explicitMonth.key)).plan).toBe('pro-monthly');

    const yearly = await buy(store, { planId: 'pro-monthly', billingCycle: 'year' });
    expect(yearly.body).toMatchObject({ order: { amount: 15_000, status: 'paid' } });
    expect(await status(yearly.key)).toMatchObject({
      plan: 'pro-yearly',
      expiresAt: '2027-04-01T00:00:00.000Z',
    });
    expect(claimsOf(yearly.token!)).toMatchObject({ plan: 'pro-yearly' });
    expect(Number((await invoiceOf(yearly.orderId))?.total_minor)).toBe(15_000);

    // A single-interval plan behaves as before; its own cycle may be named.
    const team = await buy(store, { planId: 'team-yearly', billingCycle: 'year' });
    expect((await status(team.key)).plan).toBe('team-yearly');
  });

  test('renewals charge the cycle’s price', async () => {
    store.clock.set(START);
    const yearly = await buy(store, { planId: 'pro-monthly', billingCycle: 'year' });
    store.clock.set(Date.UTC(2027, 3, 1, 1));
    await runBillingCycle(context(store), store.clock.now());
    const renewal = (await eventsOf(store, yearly.licenseId)).find(
      (event) => event.type === 'license.renewed',
    );
    expect(renewal?.data).toMatchObject({ amount: 15_000, planId: 'pro-yearly' });
    expect((await status(yearly.key)).expiresAt).toBe('2028-04-01T00:00:00.000Z');
  });

  test('bad input: an unknown cycle is 400, a cycle not offered 409', async () => {
    store.clock.set(START);
    const email = 'cycles@example.com';
    const unknown = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'pro-monthly',
      email,
      billingCycle: 'week',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('BAD_REQUEST');
    for (const [planId, billingCycle] of [
      ['team-yearly', 'month'],
      ['lifetime', 'year'],
      ['free', 'year'],
    ]) {
      const refused = await checkoutRequest(store, {
        productId: 'photon',
        planId,
        email,
        billingCycle,
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('BILLING_CYCLE_NOT_OFFERED');
    }
    const team = await buy(store, { planId: 'team-yearly' });
    const switchRefused = await keyPost(store, '/v1/licenses/plan', team.key, {
      planId: 'team-yearly',
      billingCycle: 'month',
      confirm: false,
    });
    expect(switchRefused.statusCode).toBe(409);
    expect(switchRefused.json().error.code).toBe('BILLING_CYCLE_NOT_OFFERED');
    const badCycle = await keyPost(store, '/v1/licenses/plan', team.key, {
      planId: 'team-yearly',
      billingCycle: 'fortnight',
      confirm: false,
    });
    expect(badCycle.statusCode).toBe(400);
    expect(badCycle.json().error.code).toBe('BAD_REQUEST');
  });

  test('month → year: charged at once (yearly − unused credit), invoiced, ledger balanced', async () => {
    store.clock.set(START);
    const pro = await buy(store, { planId: 'pro-monthly' });
    store.clock.advance(20 * DAY_MS); // 10 of 30 days left
    const request = { planId: 'pro-monthly', billingCycle: 'year' };
    const preview = await keyPost(store, '/v1/licenses/plan', pro.key, {
      ...request,
      confirm: false,
    });
    expect(preview.statusCode).toBe(200);
    const expected = cycleUpgradeCharge({
      currentTotal: 1500,
      yearlyTotal: 15_000,
      periodStart: at('2026-04-01T00:00:00Z'),
      periodEnd: at('2026-05-01T00:00:00Z'),
      now: at('2026-04-21T00:00:00Z'),
    });
    expect(expected).toBe(15_000 - 500);
    // Yearly is cheaper per month than monthly, yet the switch is at once.
    expect(preview.json()).toMatchObject({
      kind: 'upgrade',
      amount: expected,
      plan: 'pro-yearly',
      effectiveAt: '2026-04-21T00:00:00.000Z',
      confirmed: false,
    });
    expect((await status(pro.key)).plan).toBe('pro-monthly');

    const applied = await keyPost(store, '/v1/licenses/plan', pro.key, {
      ...request,
      confirm: true,
    });
    expect(applied.statusCode).toBe(200);
    const order = applied.json().order;
    expect(order).toMatchObject({ kind: 'upgrade', status: 'paid', amount: expected });
    // (The token's exp is also capped by the issuer certificate's end: the status says it.)
    expect(claimsOf(applied.json().token)).toMatchObject({ plan: 'pro-yearly' });
    expect(await status(pro.key)).toMatchObject({
      plan: 'pro-yearly',
      expiresAt: '2027-04-21T00:00:00.000Z',
      pendingChange: null,
    });

    const invoice = await invoiceOf(order.id);
    expect(invoice?.number).toBeTruthy();
    expect(Number(invoice?.total_minor)).toBe(expected);
    const lines = await ledgerOf(order.id);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.reduce((sum, line) => sum + Number(line.amount_minor), 0)).toBe(0);

    const changed = (await eventsOf(store, pro.licenseId)).find(
      (event) => event.type === 'license.plan_changed',
    );
    expect(changed?.data).toMatchObject({
      kind: 'upgrade',
      fromPlan: 'pro-monthly',
      toPlan: 'pro-yearly',
      amount: expected,
      effectiveAt: '2026-04-21T00:00:00.000Z',
      effective_date: '2026-04-21T00:00:00.000Z',
      billingCycle: 'year',
      fromBillingCycle: 'month',
    });
  });

  test('year → month: pending until the period end, effective_date in the webhook, applied by the billing job', async () => {
    store.clock.set(START);
    const email = 'year-to-month@example.com';
    const pro = await buy(store, { planId: 'pro-monthly', billingCycle: 'year', email });
    store.clock.advance(100 * DAY_MS);
    const applied = await keyPost(store, '/v1/licenses/plan', pro.key, {
      planId: 'pro-yearly',
      billingCycle: 'month',
      confirm: true,
    });
    expect(applied.statusCode).toBe(200);
    expect(applied.json()).toMatchObject({
      kind: 'switch',
      amount: 0,
      plan: 'pro-monthly',
      effectiveAt: '2027-04-01T00:00:00.000Z',
      pendingChange: { kind: 'downgrade', plan: 'pro-monthly', at: '2027-04-01T00:00:00.000Z' },
    });
    expect(applied.json().order).toBeUndefined();
    expect(claimsOf(applied.json().token)).toMatchObject({ plan: 'pro-yearly' });
    const scheduled = (await eventsOf(store, pro.licenseId)).find(
      (event) => event.type === 'license.plan_changed',
    );
    expect(scheduled?.data).toMatchObject({
      fromPlan: 'pro-yearly',
      toPlan: 'pro-monthly',
      effectiveAt: '2027-04-01T00:00:00.000Z',
      effective_date: '2027-04-01T00:00:00.000Z',
      billingCycle: 'month',
      fromBillingCycle: 'year',
    });
    // The customer's mail names the cycles, the plans being both "Pro".
    await store.app.mail.worker.flush();
    const mails = store.app.mail.devInbox!.messages().filter((mail) => mail.to === email);
    expect(mails.map((mail) => mail.text).join('\n')).toContain(
      'Your Photon license changes from the Pro plan (billed yearly) to the Pro plan (billed monthly).',
    );

    store.clock.set(Date.UTC(2027, 3, 1, 1));
    await runBillingCycle(context(store), store.clock.now());
    expect(await status(pro.key)).toMatchObject({
      plan: 'pro-monthly',
      status: 'active',
      expiresAt: '2027-05-01T00:00:00.000Z',
      pendingChange: null,
    });
    const events = await eventsOf(store, pro.licenseId);
    const renewed = events.find((event) => event.type === 'license.renewed');
    expect(renewed?.data).toMatchObject({ planId: 'pro-monthly', amount: 1500 });
    const changes = events.filter((event) => event.type === 'license.plan_changed');
    expect(changes.at(-1)?.data).toMatchObject({
      toPlan: 'pro-monthly',
      effective_date: '2027-04-01T00:00:00.000Z',
      billingCycle: 'month',
      fromBillingCycle: 'year',
    });
  });

  test('a cancellation’s webhook carries effective_date and the cycle', async () => {
    store.clock.set(START);
    const pro = await buy(store, { planId: 'pro-monthly', billingCycle: 'year' });
    const cancelled = await keyPost(store, '/v1/licenses/cancel', pro.key, {});
    expect(cancelled.statusCode).toBe(200);
    const event = (await eventsOf(store, pro.licenseId)).find(
      (candidate) => candidate.type === 'license.cancelled',
    );
    expect(event?.data).toMatchObject({
      effectiveAt: '2027-04-01T00:00:00.000Z',
      effective_date: '2027-04-01T00:00:00.000Z',
      billingCycle: 'year',
      fallbackPlan: 'free',
    });
  });

  let clients = 0;
  const browser = () => new PageClient(store, { remoteAddress: `10.9.0.${++clients}` });

  test('storefront: Pro once, with a monthly / yearly choice that names the saving', async () => {
    store.clock.set(START);
    const client = browser();
    const page = await client.get('/products/photon?plan=pro-yearly');
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('Pro – $15.00 per month or $150.00 per year');
    expect(text).toContain('Yearly – Pro: save $30.00 a year');
    const radios = tags(page.body, 'input').filter((input) => input.type === 'radio');
    expect(radios.filter((radio) => radio.name === 'planId').map((radio) => radio.value)).toEqual([
      'free',
      'pro-monthly',
      'team-yearly',
      'lifetime',
    ]);
    // ?plan= of the yearly twin preselects Pro, billed yearly.
    expect(formFields(page.body, '/checkout')).toMatchObject({
      planId: 'pro-monthly',
      cycle: 'year',
    });
    expect(accessibilityProblems(page.body)).toEqual([]);

    const bought = await client.submit('/products/photon', '/checkout', {
      planId: 'pro-monthly',
      cycle: 'year',
      email: 'yearly@example.com',
    });
    expect(bought.statusCode).toBe(200);
    expect(textOf(bought.body)).toContain('Pro ($150.00 per year)');
    expect(textOf(bought.body)).toContain('Charged $150.00');

    const refused = await browser().submit('/products/photon', '/checkout', {
      planId: 'pro-monthly',
      cycle: 'weekly',
      email: 'weekly@example.com',
    });
    expect(refused.statusCode).toBe(400);
    expect(textOf(refused.body)).toContain('Choose monthly or yearly.');
  });

  test('portal: the change form switches Pro to yearly with the prorated amount shown', async () => {
    store.clock.set(START);
    const pro = await buy(store, { planId: 'pro-monthly' });
    store.clock.advance(20 * DAY_MS);
    const client = browser();
    const signIn = await client.submit('/portal', '/portal/sign-in', { licenseKey: pro.key });
    expect(signIn.statusCode).toBe(303);
    const license = await client.get('/portal/license');
    expect(textOf(license.body)).toContain('Pro (your plan: change how it is billed)');
    expect(formFields(license.body, '/portal/plan')).toEqual({ cycle: 'month' });

    const preview = await client.get('/portal/plan?plan=pro-monthly&cycle=year');
    expect(preview.statusCode).toBe(200);
    expect(accessibilityProblems(preview.body)).toEqual([]);
    const expected = 15_000 - 500;
    expect(textOf(preview.body)).toContain(`Charged now ${formatMoney(expected, 'USD')}`);
    const confirm = formFields(preview.body, '/portal/plan');
    expect(confirm).toMatchObject({ plan: 'pro-yearly', expectedAmount: String(expected) });
    const done = await client.post('/portal/plan', confirm);
    expect(done.statusCode).toBe(200);
    expect(await status(pro.key)).toMatchObject({
      plan: 'pro-yearly',
      expiresAt: '2027-04-21T00:00:00.000Z',
    });
  });

  test('admin API: a yearly plan links its monthly twin; a bad link is refused', async () => {
    const post = (body: Record<string, unknown>) =>
      store.app.inject({
        method: 'POST',
        url: '/v1/admin/products/photon-presets/plans',
        headers: ADMIN,
        payload: body,
      });
    const base = { price: { amount: 500, currency: 'USD' }, name: 'Club' };
    expect((await post({ ...base, id: 'club', interval: 'month' })).statusCode).toBe(201);
    const linked = await post({
      ...base,
      id: 'club-yearly',
      interval: 'year',
      price: { amount: 5000, currency: 'USD' },
      yearlyOf: 'club',
    });
    expect(linked.statusCode).toBe(201);
    expect(linked.json().plans.find((p: { id: string }) => p.id === 'club-yearly').yearlyOf).toBe(
      'club',
    );
    // Absent keeps the link (forms that do not show it); null removes it.
    const kept = await post({ ...base, id: 'club-yearly', interval: 'year' });
    expect(kept.json().plans.find((p: { id: string }) => p.id === 'club-yearly').yearlyOf).toBe(
      'club',
    );
    for (const bad of [
      { ...base, id: 'club-2', interval: 'year', yearlyOf: 'club' }, // club has a yearly twin
      { ...base, id: 'club-3', interval: 'month', yearlyOf: 'club' }, // not a yearly plan
      { ...base, id: 'club-4', interval: 'year', yearlyOf: 'pack-50' }, // not monthly
      { ...base, id: 'club-5', interval: 'year', yearlyOf: 'nothing' },
      { ...base, id: 'club-6', interval: 'year', yearlyOf: 'club-6' },
      {
        ...base,
        id: 'club-7',
        interval: 'year',
        yearlyOf: 'club',
        price: { amount: 1, currency: 'EUR' },
      },
    ]) {
      const refused = await post(bad);
      expect(refused.statusCode, JSON.stringify(bad)).toBe(400);
      expect(refused.json().error.code).toBe('BAD_REQUEST');
    }
    const unlinked = await post({ ...base, id: 'club-yearly', interval: 'year', yearlyOf: null });
    expect(
      unlinked.json().plans.find((p: { id: string }) => p.id === 'club-yearly').yearlyOf,
    ).toBeUndefined();
  });
});
