import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { DEVICE_PROOF_MAX_AGE } from '../lib/device-proof.js';
import { IDEMPOTENCY_RETENTION_MS } from '../lib/idempotency.js';
import { chargePendingOffSession } from '../payments/stripe-off-session.js';
import { idempotencyRepository } from '../repositories/idempotency.js';
import type { LicenseRecord, PendingChangeRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import { cycleEventFields } from './billing-cycles.js';
import type { StoreContext } from './context.js';
import { emitEvent } from './events.js';
import {
  isRevoked,
  isUsable,
  licenseEventData,
  periodEndFor,
  planOf,
  planTotal,
  seatsOn,
} from './licensing.js';
import { emitPaymentFailed, licenseProvider, placeOrder } from './orders.js';

/**
 * How long the ids of payment processors' events are kept against a second delivery. A
 * processor delivers an event again when it thinks it was not received: Stripe retries for
 * up to three days (others for longer) and keeps its events 30 days, from which an operator
 * can send them again. A refund that names no refund id is told apart from a new one only
 * by its event id: forgotten sooner, a redelivery would be booked as a second refund.
 */
export const PAYMENT_EVENT_RETENTION_MS = 31 * 86_400_000;
/**
 * The billing cycle. At the end of a license's period (or trial) it cancels the upgrade
 * and seat orders still unpaid (priced for the period that ended), applies the pending
 * change (downgrade, fewer seats, cancellation with the free-plan fallback), then renews:
 * charges the next period through the license's provider (paid → new period and
 * license.renewed; pending or failed → past_due, 402 until paid), rolls free plans over
 * without an order, and expires 'once' plans whose term ended. Lifetime plans have no
 * period end and never come here.
 *
 * `runBillingCycle` does this for every license that is due (a timer calls it every
 * minute); every request that reads a license for a token does it first for that one
 * license (`lockCurrentLicense`), so a refresh right after a period ends already gets the
 * renewed token. Both run under the license's row lock, so the step happens once.
 */

/** At most this many periods are caught up in one go (a store that was down for long). */
const MAX_PERIODS_PER_STEP = 36;
const BATCH = 100;

/**
 * Locks a license row FOR UPDATE (until the transaction ends) and brings it up to `now`.
 * @throws StoreError LICENSE_NOT_FOUND
 */
export async function lockCurrentLicense(
  tx: Queryable,
  ctx: StoreContext,
  licenseId: string,
  now: Date,
): Promise<LicenseRecord> {
  const license = await licensesRepository(tx).byId(licenseId, { forUpdate: true });
  if (!license) throw new StoreError('LICENSE_NOT_FOUND');
  return advanceLicense(tx, ctx, license, now);
}

/** Applies every period end up to `now` to a locked license. */
export async function advanceLicense(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  now: Date,
): Promise<LicenseRecord> {
  let current = license;
  for (let step = 0; step < MAX_PERIODS_PER_STEP; step++) {
    if (
      isRevoked(current) ||
      !isUsable(current.status) ||
      current.periodEnd === null ||
      current.periodEnd > now
    ) {
      return current;
    }
    const before = current;
    current = await endPeriod(tx, ctx, current, now);
    await announceAppliedChange(tx, ctx, before, current, now);
  }
  return current;
}

/**
 * license.plan_changed when a scheduled downgrade or seat change takes effect at the
 * period end (it went out once when scheduled, with its future effectiveAt; this one has
 * effectiveAt = the period end that applied it), so that receivers and the customer's
 * mail hear of it when it happens, as they do of an upgrade.
 */
async function announceAppliedChange(
  tx: Queryable,
  ctx: StoreContext,
  before: LicenseRecord,
  after: LicenseRecord,
  now: Date,
): Promise<void> {
  const change = before.pendingChange;
  if (change?.kind !== 'downgrade' && change?.kind !== 'seats') return;
  if (after.pendingChange !== null || after.status === 'expired') return;
  if (after.planId === before.planId && after.seats === before.seats) return;
  await emitEvent(
    tx,
    'license.plan_changed',
    licenseEventData(after, {
      kind: change.kind,
      fromPlan: before.planId,
      toPlan: after.planId,
      toSeats: after.seats,
      effectiveAt: before.periodEnd!.toISOString(),
      ...cycleEventFields(before.periodEnd!, {
        to: await planOf(tx, ctx.config, after.productId, after.planId),
        from: await planOf(tx, ctx.config, before.productId, before.planId),
      }),
    }),
    now,
  );
}

async function endPeriod(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  now: Date,
): Promise<LicenseRecord> {
  const licenses = licensesRepository(tx);
  const boundary = license.periodEnd!;
  await cancelPlanOrdersOfPeriod(tx, ctx, license, now);
  const current = await planOf(tx, ctx.config, license.productId, license.planId);
  const change = license.pendingChange;
  if (change?.kind === 'cancel') return endWithCancellation(tx, ctx, license, change, now);

  let plan = current;
  let seats = license.seats;
  if (change?.kind === 'downgrade' && change.plan !== undefined) {
    plan = await planOf(tx, ctx.config, license.productId, change.plan);
    seats = seatsOn(plan, change.seats ?? license.seats);
  } else if (change?.kind === 'seats' && change.seats !== undefined) {
    seats = change.seats;
  }
  if (plan.interval === 'once') {
    return licenses.update(license.id, { status: 'expired', pendingChange: null }, now);
  }
  const trialEnded = license.status === 'trialing';
  // A new series of periods starts when a trial converts or the interval changes.
  const anchor = trialEnded || plan.interval !== current.interval ? boundary : license.anchor;
  const periodEnd = periodEndFor(plan, anchor, boundary)!;
  const terms = { planId: plan.id, seats, anchor, pendingChange: null };
  const amount = planTotal(plan, seats);
  if (amount === 0) {
    return licenses.update(
      license.id,
      { ...terms, status: 'active', periodStart: boundary, periodEnd },
      now,
    );
  }
  const order = await placeOrder(tx, ctx, {
    license,
    plan,
    kind: 'renewal',
    seats,
    amount,
    provider: await licenseProvider(tx, ctx, license.id),
    details: {
      periodStart: boundary.toISOString(),
      periodEnd: periodEnd.toISOString(),
      anchor: anchor.toISOString(),
      reason: trialEnded ? 'trial_end' : 'renewal',
    },
    now,
  });
  if (order.status === 'paid') {
    const renewed = await licenses.update(
      license.id,
      { ...terms, status: 'active', periodStart: boundary, periodEnd },
      now,
    );
    await emitEvent(tx, 'license.renewed', renewedData(renewed, order), now);
    return renewed;
  }
  // Pending with an admin or a processor, or failed: 402 until the order is paid. Apps
  // keep working through their token's grace.
  const pastDue = await licenses.update(license.id, { ...terms, status: 'past_due' }, now);
  if (order.status === 'failed') await emitPaymentFailed(tx, pastDue, order, now);
  return pastDue;
}

/**
 * Cancels the license's upgrade and seat orders still pending at the end of its period.
 * Each was priced for what was left of the period it was placed in (`quotedFor`), which
 * is this one: a change is quoted only on a license brought up to date, and only one waits
 * at a time. Paid later it would put the new terms on the next period at that price, or
 * apply nothing to a license gone past due. Cancelled, it can no longer be paid (an
 * admin's or a signed processor's report is refused, 409), and the customer may order the
 * change again, priced for the new period. An off-session Stripe charge already sent for
 * one (reference `pi_…`) is not stopped here (no network in this transaction): should it
 * still succeed, its payment is refunded in full (payments/stripe-events.ts,
 * returnLatePayment).
 */
async function cancelPlanOrdersOfPeriod(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  now: Date,
): Promise<void> {
  const orders = ordersRepository(tx);
  for (const order of await orders.pendingOfLicense(license.id)) {
    if (order.kind !== 'upgrade' && order.kind !== 'seats') continue;
    await orders.settle(order.id, { status: 'cancelled', at: now });
    ctx.log.info(
      { license: license.id, order: order.id, quotedFor: order.details.quotedFor },
      'plan-change order cancelled unpaid at the end of its period',
    );
  }
}

async function endWithCancellation(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  change: PendingChangeRecord,
  now: Date,
): Promise<LicenseRecord> {
  const licenses = licensesRepository(tx);
  const boundary = license.periodEnd!;
  if (change.plan === undefined) {
    return licenses.update(license.id, { status: 'cancelled', pendingChange: null }, now);
  }
  const free = await planOf(tx, ctx.config, license.productId, change.plan);
  const fallback = await licenses.update(
    license.id,
    {
      planId: free.id,
      seats: free.seats,
      status: 'active',
      anchor: boundary,
      periodStart: boundary,
      periodEnd: periodEndFor(free, boundary, boundary),
      pendingChange: null,
    },
    now,
  );
  await emitEvent(
    tx,
    'license.plan_changed',
    licenseEventData(fallback, {
      kind: 'cancel',
      fromPlan: license.planId,
      toPlan: free.id,
      effectiveAt: boundary.toISOString(),
      ...cycleEventFields(boundary, {
        to: free,
        from: await planOf(tx, ctx.config, license.productId, license.planId),
      }),
    }),
    now,
  );
  return fallback;
}

function renewedData(license: LicenseRecord, order: OrderRecord): Record<string, unknown> {
  return licenseEventData(license, {
    periodStart: license.periodStart.toISOString(),
    orderId: order.id,
    amount: order.amount,
    currency: order.currency,
  });
}

/**
 * A renewal order was paid after the license went past due: the license gets the period
 * the order was for, or, when that period is already over, a new one from now.
 */
export async function applyRenewalPayment(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
  license: LicenseRecord,
  now: Date,
): Promise<LicenseRecord> {
  if (license.status !== 'past_due' || isRevoked(license)) return license;
  const plan = await planOf(tx, ctx.config, license.productId, license.planId);
  let periodStart = new Date(order.details.periodStart ?? now);
  let periodEnd = order.details.periodEnd ? new Date(order.details.periodEnd) : null;
  let anchor = new Date(order.details.anchor ?? periodStart);
  if (periodEnd === null || periodEnd <= now) {
    anchor = now;
    periodStart = now;
    periodEnd = periodEndFor(plan, now, now);
  }
  const renewed = await licensesRepository(tx).update(
    license.id,
    { status: 'active', anchor, periodStart, periodEnd },
    now,
  );
  await emitEvent(tx, 'license.renewed', renewedData(renewed, order), now);
  return renewed;
}

export interface BillingSummary {
  /** Licenses brought up to date. */
  processed: number;
  /** Licenses whose step failed (logged; retried on the next run). */
  failed: number;
}

/**
 * One run of the billing cycle at `now`: every license whose period or trial has ended,
 * each in its own transaction (one failing license does not hold up the rest), then
 * pruning of replay-protection rows past their age.
 */
export async function runBillingCycle(ctx: StoreContext, now: Date): Promise<BillingSummary> {
  const summary: BillingSummary = { processed: 0, failed: 0 };
  const seen = new Set<string>();
  for (;;) {
    const due = (await licensesRepository(ctx.db).dueForBilling(now, BATCH)).filter(
      (id) => !seen.has(id),
    );
    if (due.length === 0) break;
    for (const id of due) {
      seen.add(id);
      try {
        await ctx.db.transaction((tx) => lockCurrentLicense(tx, ctx, id, now));
        summary.processed++;
      } catch (error) {
        summary.failed++;
        ctx.log.error({ err: error, license: id }, 'billing step failed');
      }
    }
  }
  // After the licenses' commits: off-session Stripe charges of the renewals just created,
  // and of any an earlier run or a plan change could not send (payments/stripe-off-session.ts).
  await chargePendingOffSession(ctx);
  await idempotencyRepository(ctx.db).prune(new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS));
  await ctx.db.query('DELETE FROM device_proofs WHERE seen_at < $1', [
    new Date(now.getTime() - 2 * DEVICE_PROOF_MAX_AGE * 1000),
  ]);
  await ctx.db.query('DELETE FROM payment_webhook_events WHERE received_at < $1', [
    new Date(now.getTime() - PAYMENT_EVENT_RETENTION_MS),
  ]);
  return summary;
}

/**
 * Runs the billing cycle every `intervalMs` until stopped; a run never overlaps the
 * previous one. `stop` waits for a run in progress.
 */
export function startBillingTimer(
  ctx: StoreContext,
  intervalMs: number,
  /** Called after each run (the store wakes the webhook outbox for the events it wrote). */
  afterRun: () => void = () => undefined,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = runBillingCycle(ctx, ctx.clock.now())
      .then(afterRun)
      .catch((error) => ctx.log.error({ err: error }, 'billing cycle failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
