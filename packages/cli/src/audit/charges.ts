/**
 * Charges recomputed from the plans, with core's proration, the rules the store applies
 * (packages/store README, "Plan changes"): a purchase costs the plan's price (per seat on
 * per-seat plans), a trial nothing; an immediate change on the same interval costs
 * `prorate(old, new, period, now)`; a change to a longer interval or to a one-time plan
 * costs the new price less the unused part of the current period, never below zero.
 */
import { periodAt, prorate } from '@licensekit/core';
import type { OrderRecord, PlanTerms } from './records.js';

export function planTotal(plan: PlanTerms, seats: number): number {
  return plan.price * (plan.perSeat ? seats : 1);
}

/** What a purchase or trial order should cost. */
export function purchaseCharge(order: OrderRecord, plan: PlanTerms): number {
  return order.kind === 'trial' ? 0 : planTotal(plan, order.seats);
}

export interface ChangeTerms {
  readonly from: PlanTerms;
  readonly fromSeats: number;
  readonly to: PlanTerms;
  readonly toSeats: number;
  /** Billing anchor of the license before the change, seconds. */
  readonly anchor: number;
  /** When the change was quoted (the order's creation), seconds. */
  readonly at: number;
}

/**
 * What an upgrade or seat order should cost, or undefined when the rules do not apply (a
 * change away from a one-time plan, which the store refuses).
 */
export function changeCharge(terms: ChangeTerms): number | undefined {
  const { from, to, at } = terms;
  if (from.interval === 'once') return undefined;
  const period = periodAt(terms.anchor, from.interval, at);
  const oldTotal = planTotal(from, terms.fromSeats);
  const newTotal = planTotal(to, terms.toSeats);
  const window = { periodStart: period.start, periodEnd: period.end, now: at };
  if (to.interval === from.interval) {
    return prorate({ oldPrice: oldTotal, newPrice: newTotal, ...window });
  }
  const credit = -prorate({ oldPrice: oldTotal, newPrice: 0, ...window });
  return Math.max(0, newTotal - credit);
}
