import { prorate } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import type { Plan, PlanInput } from '../schemas/catalogue.js';
import { periodEndFor } from './licensing.js';
import type { PlanChangeQuote } from './plan-changes.js';

/**
 * Billing cycles (DESIGN.md "Marketplace"): one offer billed monthly or yearly.
 *
 * Model: plans stay single-interval. A yearly plan names the monthly plan it is the
 * yearly price of (`yearlyOf`, migration 0012); the two are *twins*. A license's cycle is
 * its plan's interval, so renewals, periods, tokens, orders and invoices need nothing new:
 * choosing the yearly cycle is choosing the yearly twin.
 *
 * - Checkout takes `billingCycle` and sells the twin on that cycle (default: the plan's own).
 * - Month → year (twins): an upgrade at once, whatever the price per month, for
 *   `yearly − unused credit of the current month` (core's `prorate`, half away from zero),
 *   never below 0; a new yearly period starts now.
 * - Year → month (twins): a change at the end of the paid year (a pending change the
 *   billing cycle applies, renewing on the monthly price).
 * Changes between different offers keep the plan-change rules of plan-changes.ts.
 */

export type BillingCycle = 'month' | 'year';

/** The cycle a plan bills on; null for one-time plans. */
export function cycleOf(plan: Pick<Plan, 'interval'>): BillingCycle | null {
  return plan.interval === 'once' ? null : plan.interval;
}

/** Whether `yearly` is the yearly price of `monthly`. */
function isYearlyTwin(monthly: Plan, yearly: Plan): boolean {
  return (
    monthly.interval === 'month' &&
    yearly.interval === 'year' &&
    yearly.yearlyOf === monthly.id &&
    yearly.productId === monthly.productId
  );
}

/** The same offer on the other cycle among `plans` (a product's plans for sale), if any. */
export function twinOf(plan: Plan, plans: readonly Plan[]): Plan | undefined {
  return plans.find(
    (other) => other.id !== plan.id && (isYearlyTwin(plan, other) || isYearlyTwin(other, plan)),
  );
}

/** Whether going from `current` to `target` only changes the billing cycle of one offer. */
export function isCycleSwitch(current: Plan, target: Plan): boolean {
  return isYearlyTwin(current, target) || isYearlyTwin(target, current);
}

/**
 * The plan that sells `plan`'s offer on `cycle`: the plan itself on its own cycle (or when
 * no cycle is asked for), else its twin.
 * @throws StoreError BILLING_CYCLE_NOT_OFFERED when the offer has no plan on that cycle
 */
export function planOnCycle(
  plan: Plan,
  plans: readonly Plan[],
  cycle: BillingCycle | undefined,
): Plan {
  if (cycle === undefined || cycleOf(plan) === cycle) return plan;
  const twin = twinOf(plan, plans);
  if (twin === undefined || cycleOf(twin) !== cycle) {
    throw new StoreError(
      'BILLING_CYCLE_NOT_OFFERED',
      `The ${plan.name} plan is not offered ${cycle === 'year' ? 'yearly' : 'monthly'}.`,
    );
  }
  return twin;
}

export interface CycleUpgradeInput {
  /** What the current (monthly) period costs, seats included, minor units. */
  currentTotal: number;
  /** What a year of the yearly twin costs, seats included, minor units. */
  yearlyTotal: number;
  /** The current period [periodStart, periodEnd) and the switch time, NumericDate seconds. */
  periodStart: number;
  periodEnd: number;
  now: number;
}

/**
 * The charge of a switch to the yearly cycle: the yearly price less the unused part of the
 * current period, which core's `prorate` computes as a change to a price of 0 (the same
 * credit, rounded half away from zero, as every prorated upgrade). The credit is at most
 * the current price, so the charge never exceeds the yearly price; a yearly price below
 * the credit (an odd catalogue) charges 0 rather than paying money out.
 *
 * @example
 * // $15 / 30-day month with 10 days left, $150 a year: 15000 − 500 = 14500
 * cycleUpgradeCharge({ currentTotal: 1500, yearlyTotal: 15000, periodStart: 0, periodEnd: 2_592_000, now: 1_728_000 });
 */
export function cycleUpgradeCharge(input: CycleUpgradeInput): number {
  const unusedCredit = -prorate({
    oldPrice: input.currentTotal,
    newPrice: 0,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    now: input.now,
  });
  return Math.max(0, input.yearlyTotal - unusedCredit);
}

/**
 * The quote of a cycle switch, from the general quote (which has checked the license and
 * the currencies and gives the totals): month → year at once with
 * {@link cycleUpgradeCharge} and a new yearly period from now; year → month at the end of
 * the period. Any other change keeps the general quote.
 */
export function cycleSwitchQuote(
  license: LicenseRecord,
  current: Plan,
  general: PlanChangeQuote,
  totals: { current: number; target: number },
  now: Date,
): PlanChangeQuote {
  const target = general.plan;
  if (!isCycleSwitch(current, target) || license.periodEnd === null) return general;
  if (target.interval === 'year') {
    return {
      ...general,
      kind: 'upgrade',
      amount: cycleUpgradeCharge({
        currentTotal: totals.current,
        yearlyTotal: totals.target,
        periodStart: seconds(license.periodStart),
        periodEnd: seconds(license.periodEnd),
        now: seconds(now),
      }),
      effectiveAt: now,
      immediate: true,
      newPeriod: { start: now, end: periodEndFor(target, now, now) },
    };
  }
  const { newPeriod: _none, ...deferred } = general;
  return {
    ...deferred,
    kind: 'switch',
    amount: 0,
    effectiveAt: license.periodEnd,
    immediate: false,
  };
}

/**
 * What webhook payloads of a plan change or cancellation carry about the cycle, beside
 * their existing fields: GitHub Marketplace's `effective_date` (ISO 8601, when the change
 * takes or took effect — in the future for a pending change) and `billingCycle` (the
 * cycle of the plan in force from then on; of the cancelled plan for a cancellation),
 * with `fromBillingCycle` when the plan before is known. Cycles are null on one-time plans.
 */
export function cycleEventFields(
  effectiveAt: Date,
  plans: { to: Pick<Plan, 'interval'>; from?: Pick<Plan, 'interval'> | undefined },
): Record<string, unknown> {
  return {
    effective_date: effectiveAt.toISOString(),
    billingCycle: cycleOf(plans.to),
    ...(plans.from !== undefined && { fromBillingCycle: cycleOf(plans.from) }),
  };
}

/**
 * Checks the `yearlyOf` link of a plan about to be written: it must name another plan of
 * the same product billed monthly, in the same currency, on a plan that is itself yearly,
 * and no other plan may already be that monthly plan's yearly price.
 * @throws StoreError BAD_REQUEST naming what is wrong
 */
export async function checkYearlyLink(
  db: Queryable,
  productId: string,
  plan: PlanInput,
): Promise<void> {
  const monthlyId = plan.yearlyOf;
  if (monthlyId === undefined || monthlyId === null) return;
  if (plan.interval !== 'year') {
    throw new StoreError('BAD_REQUEST', 'yearlyOf is set only on a plan billed yearly.');
  }
  if (monthlyId === plan.id) {
    throw new StoreError('BAD_REQUEST', 'yearlyOf names the monthly plan, not this one.');
  }
  const [monthly] = await db.query<{ interval: string; currency: string }>(
    'SELECT interval, currency FROM plans WHERE product_id = $1 AND id = $2',
    [productId, monthlyId],
  );
  if (monthly?.interval !== 'month') {
    throw new StoreError(
      'BAD_REQUEST',
      `yearlyOf must name a monthly plan of this product; ${JSON.stringify(monthlyId)} is not one.`,
    );
  }
  if (monthly.currency !== plan.price.currency) {
    throw new StoreError('BAD_REQUEST', 'The monthly and yearly prices must be in one currency.');
  }
  const [taken] = await db.query<{ id: string }>(
    'SELECT id FROM plans WHERE product_id = $1 AND yearly_of = $2 AND id <> $3',
    [productId, monthlyId, plan.id],
  );
  if (taken) {
    throw new StoreError(
      'BAD_REQUEST',
      `The plan ${JSON.stringify(taken.id)} is already the yearly price of ${JSON.stringify(monthlyId)}.`,
    );
  }
}
