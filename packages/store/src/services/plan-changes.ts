import type { TokenFormat } from '@licensekit/core';
import { prorate } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import {
  chargeAfterCommit,
  chargeBeingProcessed,
  chargeInFlight,
  stopChargesInFlight,
} from '../payments/stripe-off-session.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { devicesRepository } from '../repositories/devices.js';
import type { LicenseRecord, PendingChangeRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import type { Plan } from '../schemas/catalogue.js';
import { lockCurrentLicense } from './billing.js';
import type { BillingCycle } from './billing-cycles.js';
import { cycleEventFields, cycleSwitchQuote, planOnCycle } from './billing-cycles.js';
import type { StoreContext } from './context.js';
import { emitEvent } from './events.js';
import type { OrderView, PendingChangeView } from './licensing.js';
import {
  assertUsable,
  licenseEventData,
  monthsPerPeriod,
  orderView,
  pendingChangeView,
  periodEndFor,
  planOf,
  planTotal,
  seatsOn,
} from './licensing.js';
import { licenseProvider, placeOrder } from './orders.js';
import { openPaymentPageOrder } from './owed-payment.js';
import { assertScheduledAsSeen } from './scheduled-change.js';
import { issueLicenseToken } from './tokens.js';

/**
 * Plan and seat changes (DESIGN.md "Store": plan changes).
 *
 * Rules, with prices compared per nominal month (month = 1, year = 12) and totals
 * including seats on per-seat plans:
 * - upgrade — a higher price per month on an interval at least as long: at once.
 *   Same interval: the charge is core's `prorate(old, new, periodStart, periodEnd, now)`
 *   (half away from zero), the period is kept. Longer interval (month → year): the unused
 *   part of the current period is credited (`-prorate(old, 0, …)`) and the new plan's full
 *   price charged for a new period starting now; the charge is positive by construction.
 *   To a one-time plan (lifetime, term): its price less the same credit, at once.
 * - switch — the same price per month on the same interval: at once, nothing charged.
 * - downgrade — a lower price per month, and every other interval change (a higher
 *   price per month on a shorter interval would leave an unusable credit): at the end of
 *   the period, as a pending change carried in tokens as `chg`.
 * - seats (per-seat plans) — more seats at once with the prorated difference; fewer at the
 *   end of the period, never fewer than the devices in use.
 * - cancel — at the end of the period (the trial end while trialing), falling back to the
 *   product's free plan where one exists; a past-due license is cancelled at once.
 * One pending change at a time: a new deferred change replaces it, an upgrade clears it
 * when paid — unless it was scheduled while the upgrade waited for that payment (kept).
 * A change of billing cycle only (twin plans, billing-cycles.ts) has its own rule:
 * month → year at once (yearly price − unused credit), year → month at the period end.
 */

export type ChangeKind = 'upgrade' | 'downgrade' | 'switch';

export interface PlanChangeQuote {
  kind: ChangeKind;
  /** Charged now, minor units (0 for deferred changes). */
  amount: number;
  currency: string;
  effectiveAt: Date;
  immediate: boolean;
  plan: Plan;
  seats: number;
  /** A new period that starts with an immediate change of interval or to a one-time plan. */
  newPeriod?: { start: Date; end: Date | null };
}

/** The unused part of the current period's price, minor units (same rounding as prorate). */
function unusedCredit(oldTotal: number, license: LicenseRecord, now: Date): number {
  return -prorate({
    oldPrice: oldTotal,
    newPrice: 0,
    periodStart: seconds(license.periodStart),
    periodEnd: seconds(license.periodEnd!),
    now: seconds(now),
  });
}

/**
 * What changing to `target` with `seats` would do, without doing it.
 * @throws StoreError PLAN_CHANGE_INVALID
 */
export function quotePlanChange(
  license: LicenseRecord,
  current: Plan,
  target: Plan,
  seats: number,
  now: Date,
): PlanChangeQuote {
  if (license.status !== 'active') {
    throw new StoreError(
      'PLAN_CHANGE_INVALID',
      license.status === 'trialing'
        ? 'The plan can be changed once the trial has ended.'
        : 'Only an active license can change its plan.',
    );
  }
  if (current.interval === 'once' || license.periodEnd === null) {
    throw new StoreError('PLAN_CHANGE_INVALID', 'A one-time purchase does not change plans.');
  }
  if (target.id === current.id && seats === license.seats) {
    throw new StoreError('PLAN_CHANGE_INVALID', 'The license is already on this plan.');
  }
  const oldTotal = planTotal(current, license.seats);
  const newTotal = planTotal(target, seats);
  const currency = target.price.currency;
  if (currency !== current.price.currency) {
    throw new StoreError('PLAN_CHANGE_INVALID', 'The plans are priced in different currencies.');
  }
  const periodEnd = license.periodEnd;
  const deferred = (kind: ChangeKind): PlanChangeQuote => ({
    kind,
    amount: 0,
    currency,
    effectiveAt: periodEnd,
    immediate: false,
    plan: target,
    seats,
  });
  if (target.interval === 'once') {
    const start = now;
    return {
      kind: 'upgrade',
      amount: Math.max(0, newTotal - unusedCredit(oldTotal, license, now)),
      currency,
      effectiveAt: now,
      immediate: true,
      plan: target,
      seats,
      newPeriod: { start, end: periodEndFor(target, start, start) },
    };
  }
  // Compare prices per month without division: new/newMonths vs old/oldMonths.
  const oldMonths = monthsPerPeriod(current);
  const newMonths = monthsPerPeriod(target);
  const rate = Math.sign(newTotal * oldMonths - oldTotal * newMonths);
  if (target.interval === current.interval) {
    if (rate < 0) return deferred('downgrade');
    return {
      kind: rate > 0 ? 'upgrade' : 'switch',
      amount: prorate({
        oldPrice: oldTotal,
        newPrice: newTotal,
        periodStart: seconds(license.periodStart),
        periodEnd: seconds(periodEnd),
        now: seconds(now),
      }),
      currency,
      effectiveAt: now,
      immediate: true,
      plan: target,
      seats,
    };
  }
  if (rate > 0 && newMonths >= oldMonths) {
    return {
      kind: 'upgrade',
      amount: Math.max(0, newTotal - unusedCredit(oldTotal, license, now)),
      currency,
      effectiveAt: now,
      immediate: true,
      plan: target,
      seats,
      newPeriod: { start: now, end: periodEndFor(target, now, now) },
    };
  }
  return deferred(rate < 0 ? 'downgrade' : 'switch');
}

/** The quote of a change of plan, with the billing-cycle rule for twin plans. */
function quoteChange(
  license: LicenseRecord,
  current: Plan,
  target: Plan,
  seats: number,
  now: Date,
): PlanChangeQuote {
  return cycleSwitchQuote(
    license,
    current,
    quotePlanChange(license, current, target, seats, now),
    { current: planTotal(current, license.seats), target: planTotal(target, seats) },
    now,
  );
}

export interface PlanChangeRequest {
  planId: string;
  seats?: number | undefined;
  confirm: boolean;
  format?: TokenFormat | undefined;
  /** The cycle of `planId`'s offer to change to (default: that plan's own). */
  billingCycle?: BillingCycle | undefined;
  /**
   * The amount the customer saw in the preview (the portal sends it): a confirmation whose
   * amount now differs — time has passed, or the terms changed — is refused with
   * QUOTE_CHANGED in the same transaction, so nobody is charged what they were not shown.
   */
  expectedAmount?: number | undefined;
  /**
   * The token of the scheduled change the customer was shown ('' for none; the portal
   * sends it): a confirmation that would replace or withdraw a change scheduled since is
   * refused with ScheduledChangeMoved in the same transaction. Unset: not checked.
   */
  replaces?: string | undefined;
}

export interface PlanChangeOutcome {
  kind: ChangeKind;
  amount: number;
  currency: string;
  effectiveAt: string;
  plan: string;
  seats: number;
  confirmed: boolean;
  /** The order of an immediate change with a charge. */
  order?: OrderView;
  pendingChange: PendingChangeView | null;
  /** A new token with the change (or its `chg`), when the change was applied. */
  token?: string;
  test: boolean;
}

/**
 * Previews (`confirm: false`) or applies a plan change. Previewing changes nothing; the
 * amount a confirmation charges is computed by the same function at the same time.
 */
export async function changePlan(
  ctx: StoreContext,
  licenseId: string,
  request: PlanChangeRequest,
): Promise<PlanChangeOutcome> {
  const now = ctx.clock.now();
  const outcome = await ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertUsable(ctx.config, license);
    if (request.confirm) assertScheduledAsSeen(license.pendingChange, request.replaces);
    const catalogue = catalogueRepository(tx, ctx.config.publicUrl);
    const product = await catalogue.getProduct(license.productId);
    const requested = product?.plans.find((plan) => plan.id === request.planId);
    if (!product || !requested) throw new StoreError('PLAN_NOT_FOUND');
    const target = planOnCycle(requested, product.plans, request.billingCycle);
    if (request.seats !== undefined && !target.perSeat) {
      throw new StoreError('BAD_REQUEST', 'Seats can be chosen only on a per-seat plan.');
    }
    const current = await planOf(tx, ctx.config, license.productId, license.planId);
    const seats = seatsOn(target, request.seats ?? (current.perSeat ? license.seats : undefined));
    const quote = quoteChange(license, current, target, seats, now);
    return settleChange(tx, ctx, license, quote, request, now);
  });
  return chargeAfterChange(ctx, outcome);
}

export interface SeatChangeRequest {
  seats: number;
  confirm: boolean;
  format?: TokenFormat | undefined;
}

/** More seats at once (prorated), fewer at the end of the period. */
export async function changeSeats(
  ctx: StoreContext,
  licenseId: string,
  request: SeatChangeRequest,
): Promise<PlanChangeOutcome> {
  const now = ctx.clock.now();
  const outcome = await ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertUsable(ctx.config, license);
    const plan = await planOf(tx, ctx.config, license.productId, license.planId);
    if (!plan.perSeat) {
      throw new StoreError('PLAN_CHANGE_INVALID', 'The seats of this plan are fixed.');
    }
    const quote = quotePlanChange(license, plan, plan, request.seats, now);
    return settleChange(tx, ctx, license, quote, request, now);
  });
  return chargeAfterChange(ctx, outcome);
}

/**
 * A change charged through a processor that charges saved cards off session (Stripe):
 * its order committed pending, and is sent now (payments/stripe-off-session.ts). A
 * refusal shows in the answer as a failed order; an outage leaves it pending for the
 * billing job.
 */
async function chargeAfterChange(
  ctx: StoreContext,
  outcome: PlanChangeOutcome,
): Promise<PlanChangeOutcome> {
  if (outcome.order?.status !== 'pending') return outcome;
  await chargeAfterCommit(ctx, outcome.order.id);
  const current = await ordersRepository(ctx.db).byId(outcome.order.id);
  return current ? { ...outcome, order: orderView(current) } : outcome;
}

async function settleChange(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  quote: PlanChangeQuote,
  request: {
    confirm: boolean;
    format?: TokenFormat | undefined;
    expectedAmount?: number | undefined;
  },
  now: Date,
): Promise<PlanChangeOutcome> {
  const outcome: PlanChangeOutcome = {
    kind: quote.kind,
    amount: quote.amount,
    currency: quote.currency,
    effectiveAt: quote.effectiveAt.toISOString(),
    plan: quote.plan.id,
    seats: quote.seats,
    confirmed: request.confirm,
    pendingChange: pendingChangeView(license.pendingChange),
    test: license.test,
  };
  if (quote.seats < license.seats) {
    const inUse = await devicesRepository(tx).countActive(license.id);
    if (quote.seats < inUse) {
      throw new StoreError(
        'SEATS_IN_USE',
        `${inUse} devices are active; deactivate ${inUse - quote.seats} before going down to ${quote.seats} seats.`,
      );
    }
  }
  if (!request.confirm) return outcome;
  if (request.expectedAmount !== undefined && request.expectedAmount !== quote.amount) {
    throw new StoreError('QUOTE_CHANGED');
  }

  const samePlan = quote.plan.id === license.planId;
  if (!quote.immediate) {
    const pending: PendingChangeRecord = samePlan
      ? { kind: 'seats', at: quote.effectiveAt.toISOString(), seats: quote.seats }
      : { kind: 'downgrade', at: quote.effectiveAt.toISOString(), plan: quote.plan.id };
    if (!samePlan && quote.plan.perSeat) pending.seats = quote.seats;
    const updated = await licensesRepository(tx).update(
      license.id,
      { pendingChange: pending, cancelledAt: null },
      now,
    );
    await markChangeScheduledAfterPlanOrders(tx, license.id);
    const from = await planOf(tx, ctx.config, license.productId, license.planId);
    await emitEvent(
      tx,
      'license.plan_changed',
      licenseEventData(updated, {
        kind: samePlan ? 'seats' : quote.kind,
        fromPlan: license.planId,
        toPlan: quote.plan.id,
        toSeats: quote.seats,
        effectiveAt: quote.effectiveAt.toISOString(),
        ...cycleEventFields(quote.effectiveAt, { to: quote.plan, from }),
      }),
      now,
    );
    outcome.pendingChange = pendingChangeView(updated.pendingChange);
    outcome.token = (
      await issueLicenseToken(tx, ctx, license.id, { format: request.format, now })
    ).token;
    return outcome;
  }

  // An earlier immediate change still waiting for its payment would be charged as well as
  // this one, and only the first paid would apply (applyPlanOrder): never a second order.
  // The license's row lock makes the check and the order one step.
  const waiting = (await ordersRepository(tx).pendingOfLicense(license.id)).find(
    (order) => order.kind === 'upgrade' || order.kind === 'seats',
  );
  if (waiting) {
    throw new StoreError(
      'PLAN_CHANGE_INVALID',
      'An earlier plan change is waiting for its payment; it applies once paid.',
    );
  }
  const newPeriod = quote.newPeriod;
  const order = await placeOrder(tx, ctx, {
    license,
    plan: quote.plan,
    kind: samePlan ? 'seats' : 'upgrade',
    seats: quote.seats,
    amount: quote.amount,
    provider: await licenseProvider(tx, ctx, license.id),
    details: {
      fromPlan: license.planId,
      fromSeats: license.seats,
      // Priced for what is left of this period: cancelled if still pending at its end.
      quotedFor: license.periodEnd!.toISOString(),
      ...(newPeriod && {
        periodStart: newPeriod.start.toISOString(),
        periodEnd: newPeriod.end?.toISOString() ?? null,
        anchor: newPeriod.start.toISOString(),
      }),
    },
    now,
  });
  if (order.status === 'failed') {
    throw new StoreError('PAYMENT_REQUIRED', 'The payment for this change failed.');
  }
  outcome.order = orderView(order);
  if (order.status === 'paid') {
    const updated = await applyPlanOrder(tx, ctx, order, license, now);
    outcome.pendingChange = pendingChangeView(updated.pendingChange);
    outcome.token = (
      await issueLicenseToken(tx, ctx, license.id, { format: request.format, now })
    ).token;
  }
  return outcome;
}

/**
 * Applies a paid upgrade or seat order to its license: the plan, seats and (for a change
 * of interval) the new period. The order supersedes a pending change scheduled before it
 * was placed (cleared, with a scheduled cancellation); one the customer scheduled while it
 * waited for its payment is their later word and is kept, moved to the new period's end,
 * while it still means something on the new terms (`changeKeptOnNewTerms`). An order that
 * no longer matches the license's terms (they changed while it was pending) or was quoted
 * for another period than the license's current one (`quotedFor`: its proration was for
 * that period; the billing cycle cancels such an order at the period end, this guards
 * anything that slips past) applies nothing.
 */
export async function applyPlanOrder(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
  license: LicenseRecord,
  now: Date,
): Promise<LicenseRecord> {
  const { details } = order;
  if (
    license.status !== 'active' ||
    license.planId !== (details.fromPlan ?? license.planId) ||
    license.seats !== (details.fromSeats ?? license.seats) ||
    (details.quotedFor !== undefined && details.quotedFor !== license.periodEnd?.toISOString())
  ) {
    return license;
  }
  const upgraded: LicenseRecord = {
    ...license,
    planId: order.planId,
    seats: order.seats,
    ...(details.periodStart !== undefined && {
      anchor: new Date(details.anchor ?? details.periodStart),
      periodStart: new Date(details.periodStart),
      periodEnd: details.periodEnd ? new Date(details.periodEnd) : null,
    }),
  };
  const kept = changeScheduledAfter(order)
    ? await changeKeptOnNewTerms(tx, ctx, license.pendingChange, upgraded, now)
    : null;
  const updated = await licensesRepository(tx).update(
    license.id,
    {
      planId: upgraded.planId,
      seats: upgraded.seats,
      pendingChange: kept,
      cancelledAt: kept?.kind === 'cancel' ? license.cancelledAt : null,
      ...(details.periodStart !== undefined && {
        anchor: upgraded.anchor,
        periodStart: upgraded.periodStart,
        periodEnd: upgraded.periodEnd,
      }),
    },
    now,
  );
  await emitEvent(
    tx,
    'license.plan_changed',
    licenseEventData(updated, {
      kind: order.kind === 'seats' ? 'seats' : 'upgrade',
      fromPlan: details.fromPlan ?? license.planId,
      toPlan: order.planId,
      toSeats: order.seats,
      effectiveAt: now.toISOString(),
      orderId: order.id,
      amount: order.amount,
      currency: order.currency,
      ...cycleEventFields(now, {
        to: await planOf(tx, ctx.config, license.productId, order.planId),
        from: await planOf(tx, ctx.config, license.productId, license.planId),
      }),
    }),
    now,
  );
  return updated;
}

/**
 * Set on a pending upgrade or seat order (its details, `changeScheduledAfter: true`) when
 * the customer schedules a change or cancels while it waits for its payment, so that the
 * payment keeps that change instead of superseding it (applyPlanOrder).
 */
async function markChangeScheduledAfterPlanOrders(tx: Queryable, licenseId: string) {
  await tx.query(
    `UPDATE orders SET details = details || '{"changeScheduledAfter": true}'::jsonb
      WHERE license_id = $1 AND status = 'pending' AND kind IN ('upgrade', 'seats')`,
    [licenseId],
  );
}

function changeScheduledAfter(order: OrderRecord): boolean {
  return order.details.changeScheduledAfter === true;
}

/**
 * A change scheduled while a plan order waited, on the terms the order applies: its date
 * becomes the end of the (possibly new) period. Null when it means nothing there: on a
 * one-time plan nothing renews, and a downgrade or seat decrease that is no longer one
 * from the new plan (what the customer would now be quoted at once, or nothing at all) is
 * withdrawn rather than applied as something they were never shown.
 */
async function changeKeptOnNewTerms(
  tx: Queryable,
  ctx: StoreContext,
  change: PendingChangeRecord | null,
  upgraded: LicenseRecord,
  now: Date,
): Promise<PendingChangeRecord | null> {
  const plan = await planOf(tx, ctx.config, upgraded.productId, upgraded.planId);
  if (change === null || plan.interval === 'once' || upgraded.periodEnd === null) return null;
  const kept = { ...change, at: upgraded.periodEnd.toISOString() };
  if (change.kind === 'cancel') return kept;
  if (change.kind === 'seats' && !plan.perSeat) return null;
  const target =
    change.kind === 'seats'
      ? plan
      : await catalogueRepository(tx, ctx.config.publicUrl).getPlan(
          upgraded.productId,
          change.plan ?? '',
        );
  // A plan gone from the catalogue is left to the period end, as it would have been.
  if (!target) return kept;
  const seats = seatsOn(target, change.seats ?? upgraded.seats);
  try {
    return quoteChange(upgraded, plan, target, seats, now).immediate ? null : kept;
  } catch (error) {
    if (error instanceof StoreError && error.code === 'PLAN_CHANGE_INVALID') return null;
    throw error;
  }
}

export interface CancelOutcome {
  status: LicenseRecord['status'];
  plan: string;
  pendingChange: PendingChangeView | null;
  effectiveAt: string;
  token?: string;
  test: boolean;
}

/**
 * Cancels at the end of the period (trial end while trialing), onto the product's free
 * plan where one exists. A past-due license is cancelled at once (its unpaid renewal
 * orders are cancelled, after any off-session charge Stripe was sent for them is cancelled
 * there; one Stripe is taking already answers CONFLICT and its payment renews the license).
 * Cancelling again changes nothing.
 * @throws StoreError PLAN_CHANGE_INVALID for one-time purchases and free plans; CONFLICT
 *   while a Stripe payment of the license is being processed; PAYMENT_PROVIDER_UNAVAILABLE
 */
export async function cancelLicense(
  ctx: StoreContext,
  licenseId: string,
  options: {
    format?: TokenFormat | undefined;
    /** As PlanChangeRequest.replaces; a scheduled cancellation counts as none. */
    replaces?: string | undefined;
  } = {},
): Promise<CancelOutcome> {
  const stopped = await stopChargesOfPastDue(ctx, licenseId);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const licenses = licensesRepository(tx);
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertScheduledAsSeen(license.pendingChange, options.replaces, { ignoreCancel: true });
    if (license.status === 'revoked' || license.revokedAt !== null) {
      throw new StoreError('LICENSE_REVOKED');
    }
    const plan = await planOf(tx, ctx.config, license.productId, license.planId);
    const free = await catalogueRepository(tx, ctx.config.publicUrl).freePlan(license.productId);
    if (plan.price.amount === 0) {
      throw new StoreError('PLAN_CHANGE_INVALID', 'A free plan has nothing to cancel.');
    }
    if (license.status === 'past_due') {
      const pending = await ordersRepository(tx).pendingOfLicense(license.id);
      // Cancelling cancels the pending renewal: not while its payment page can still be paid.
      const paying = await openPaymentPageOrder(tx, pending, now);
      if (paying) {
        throw new StoreError(
          'PLAN_CHANGE_INVALID',
          'The renewal is being paid on the payment page. Finish paying there, or cancel once that page has expired, an hour after it was opened.',
        );
      }
      for (const order of pending) {
        const intent = chargeInFlight(order);
        // Sent after the PaymentIntents were stopped (the billing job): it may be taking
        // the money now, and its order must be there for the webhook.
        if (intent && !stopped.has(intent)) throw chargeBeingProcessed();
      }
      for (const order of pending) {
        await ordersRepository(tx).settle(order.id, { status: 'cancelled', at: now });
      }
      const ended = free
        ? await licenses.update(
            license.id,
            {
              planId: free.id,
              seats: free.seats,
              status: 'active',
              anchor: now,
              periodStart: now,
              periodEnd: periodEndFor(free, now, now),
              pendingChange: null,
              cancelledAt: now,
            },
            now,
          )
        : await licenses.update(
            license.id,
            { status: 'cancelled', pendingChange: null, cancelledAt: now },
            now,
          );
      await emitEvent(
        tx,
        'license.cancelled',
        licenseEventData(ended, {
          effectiveAt: now.toISOString(),
          fromPlan: license.planId,
          fallbackPlan: free?.id ?? null,
          ...cycleEventFields(now, { to: plan }),
        }),
        now,
      );
      return {
        status: ended.status,
        plan: ended.planId,
        pendingChange: null,
        effectiveAt: now.toISOString(),
        test: ended.test,
      };
    }
    assertUsable(ctx.config, license);
    if (plan.interval === 'once' || license.periodEnd === null) {
      throw new StoreError('PLAN_CHANGE_INVALID', 'A one-time purchase has nothing to cancel.');
    }
    const effectiveAt = license.periodEnd;
    // Asked while an upgrade waits for its payment (even if a cancellation was scheduled
    // already): the payment must not withdraw it.
    await markChangeScheduledAfterPlanOrders(tx, license.id);
    let updated = license;
    if (license.pendingChange?.kind !== 'cancel') {
      const pending: PendingChangeRecord = { kind: 'cancel', at: effectiveAt.toISOString() };
      if (free) pending.plan = free.id;
      updated = await licenses.update(
        license.id,
        { pendingChange: pending, cancelledAt: now },
        now,
      );
      await emitEvent(
        tx,
        'license.cancelled',
        licenseEventData(updated, {
          effectiveAt: effectiveAt.toISOString(),
          fromPlan: license.planId,
          fallbackPlan: free?.id ?? null,
          ...cycleEventFields(effectiveAt, { to: plan }),
        }),
        now,
      );
    }
    const token = await issueLicenseToken(tx, ctx, license.id, { format: options.format, now });
    return {
      status: updated.status,
      plan: updated.planId,
      pendingChange: pendingChangeView(updated.pendingChange),
      effectiveAt: effectiveAt.toISOString(),
      token: token.token,
      test: updated.test,
    };
  });
}

/**
 * Before a past-due license is cancelled with its unpaid orders: the off-session charges
 * already sent for them are cancelled at Stripe, outside the transaction (it waits on the
 * network). Answers the PaymentIntents Stripe confirmed cancelled; the transaction re-reads
 * the orders under the license's lock and cancels only those.
 * @throws StoreError CONFLICT (a payment is being processed), PAYMENT_PROVIDER_UNAVAILABLE
 */
async function stopChargesOfPastDue(ctx: StoreContext, licenseId: string): Promise<Set<string>> {
  const license = await licensesRepository(ctx.db).byId(licenseId);
  if (license?.status !== 'past_due' || license.revokedAt !== null) return new Set();
  return stopChargesInFlight(ctx, await ordersRepository(ctx.db).pendingOfLicense(licenseId));
}

/**
 * Withdraws the pending change (cancellation, downgrade or seat decrease).
 * @throws StoreError PLAN_CHANGE_INVALID when nothing is pending
 */
export async function undoPendingChange(
  ctx: StoreContext,
  licenseId: string,
  options: { format?: TokenFormat | undefined } = {},
): Promise<{ pendingChange: null; token: string; test: boolean }> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertUsable(ctx.config, license);
    const withdrawn = license.pendingChange;
    if (withdrawn === null) {
      throw new StoreError('PLAN_CHANGE_INVALID', 'No change is pending for this license.');
    }
    const updated = await licensesRepository(tx).update(
      license.id,
      { pendingChange: null, cancelledAt: null },
      now,
    );
    await emitEvent(
      tx,
      'license.plan_changed',
      licenseEventData(updated, {
        kind: 'undo',
        withdrawn: pendingChangeView(withdrawn),
        effectiveAt: now.toISOString(),
      }),
      now,
    );
    const token = await issueLicenseToken(tx, ctx, license.id, { format: options.format, now });
    return { pendingChange: null, token: token.token, test: updated.test };
  });
}
