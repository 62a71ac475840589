import { periodAt } from '@licensekit/core';
import type { StoreConfig } from '../config.js';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { devicesRepository } from '../repositories/devices.js';
import type {
  LicenseRecord,
  LicenseStatus,
  PendingChangeRecord,
} from '../repositories/licenses.js';
import type { OrderRecord } from '../repositories/orders.js';
import type { Plan } from '../schemas/catalogue.js';

/**
 * Licensing rules shared by checkout, activation, refresh, plan changes and billing:
 * periods, prices, links, and which licenses may be used.
 */

const DAY_MS = 86_400_000;

/** The price of one period of `plan` for `seats` seats, minor units. */
export function planTotal(plan: Plan, seats: number): number {
  return plan.price.amount * (plan.perSeat ? seats : 1);
}

/** The seat count a license gets on `plan`: the chosen count on per-seat plans, else the plan's. */
export function seatsOn(plan: Plan, chosen: number | undefined): number {
  return plan.perSeat ? (chosen ?? plan.seats) : plan.seats;
}

/**
 * The end of the period of `plan` that starts at `start`, on the billing series anchored
 * at `anchor` (calendar months and years, clamped to month ends as core's periods are);
 * for 'once' plans the end of the term, null for a lifetime plan.
 */
export function periodEndFor(plan: Plan, anchor: Date, start: Date): Date | null {
  if (plan.interval === 'once') {
    return plan.termDays === null ? null : new Date(start.getTime() + plan.termDays * DAY_MS);
  }
  return new Date(periodAt(seconds(anchor), plan.interval, seconds(start)).end * 1000);
}

/** Nominal months per period (month 1, year 12): what per-day price comparisons use. */
export function monthsPerPeriod(plan: Plan): number {
  return plan.interval === 'year' ? 12 : 1;
}

/**
 * Where a customer pays for a license that is not paid (402 answers): the portal's pay
 * page for a past-due license's renewal or a pending license's purchase (the same license,
 * with the key the app already has, paid again: services/owed-payment.ts), else the
 * plan's page in the storefront.
 */
export function checkoutUrl(
  config: StoreConfig,
  license: Pick<LicenseRecord, 'productId' | 'planId' | 'status'>,
): string {
  if (paidInPortal(license.status)) return `${config.publicUrl}/portal/pay`;
  return `${config.publicUrl}/products/${license.productId}?plan=${encodeURIComponent(license.planId)}`;
}

/** Whether an unpaid license's order is paid again in the portal (`checkoutUrl`). */
export function paidInPortal(status: LicenseStatus): boolean {
  return status === 'past_due' || status === 'pending';
}

/** Where a customer subscribes to a product (402 answers of the status endpoint). */
export function subscribeUrl(config: StoreConfig, productId: string): string {
  return `${config.publicUrl}/products/${productId}`;
}

export function isRevoked(license: LicenseRecord): boolean {
  return license.status === 'revoked' || license.revokedAt !== null;
}

/**
 * Whether a period end is due that the billing step has not applied yet (what
 * billing.ts advanceLicense would do under the license's lock): a usable license whose
 * paid period (or trial) has ended by `now`.
 */
export function owesBillingStep(license: LicenseRecord, now: Date): boolean {
  return (
    !isRevoked(license) &&
    isUsable(license.status) &&
    license.periodEnd !== null &&
    license.periodEnd <= now
  );
}

/** Statuses in which a license gets tokens. */
export function isUsable(status: LicenseStatus): boolean {
  return status === 'active' || status === 'trialing';
}

/**
 * Refuses a license that may not get a token: 403 when revoked, 402 with a checkout link
 * when not paid (pending, past due, expired, cancelled without a free plan).
 * @throws StoreError LICENSE_REVOKED, PAYMENT_REQUIRED
 */
export function assertUsable(config: StoreConfig, license: LicenseRecord): void {
  if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
  if (!isUsable(license.status)) {
    throw new StoreError('PAYMENT_REQUIRED', paymentMessage(license.status), {
      checkoutUrl: checkoutUrl(config, license),
    });
  }
}

function paymentMessage(status: LicenseStatus): string {
  switch (status) {
    case 'pending':
      return 'The order of this license is not paid yet.';
    case 'past_due':
      return 'The renewal of this license is not paid yet.';
    case 'expired':
      return 'This license has expired.';
    case 'cancelled':
      return 'This license was cancelled.';
    default:
      return 'The license is not paid for this period.';
  }
}

/** A plan of the license's product (inactive plans included: a license may be on one). */
export async function planOf(
  tx: Queryable,
  config: StoreConfig,
  productId: string,
  planId: string,
): Promise<Plan> {
  const plan = await catalogueRepository(tx, config.publicUrl).getPlan(productId, planId);
  if (!plan) throw new StoreError('PLAN_NOT_FOUND');
  return plan;
}

/** The pending change as the API shows it (ISO time). */
export interface PendingChangeView {
  kind: 'downgrade' | 'cancel' | 'seats';
  at: string;
  plan?: string;
  seats?: number;
}

export function pendingChangeView(change: PendingChangeRecord | null): PendingChangeView | null {
  if (change === null) return null;
  const view: PendingChangeView = { kind: change.kind, at: new Date(change.at).toISOString() };
  if (change.plan !== undefined) view.plan = change.plan;
  if (change.seats !== undefined) view.seats = change.seats;
  return view;
}

/** What the status endpoint and the portal show of a license. */
export interface LicenseView {
  id: string;
  product: string;
  status: LicenseStatus;
  plan: string;
  planName: string;
  test: boolean;
  keyHint: string;
  /** End of the paid period (trial end while trialing); null for lifetime licenses. */
  expiresAt: string | null;
  graceEndsAt: string | null;
  trialEndsAt: string | null;
  pendingChange: PendingChangeView | null;
  seats: number;
  devicesInUse: number;
}

export async function licenseView(
  tx: Queryable,
  config: StoreConfig,
  license: LicenseRecord,
): Promise<LicenseView> {
  const plan = await planOf(tx, config, license.productId, license.planId);
  const end = license.periodEnd;
  return {
    id: license.id,
    product: license.productId,
    status: isRevoked(license) ? 'revoked' : license.status,
    plan: license.planId,
    planName: plan.name,
    test: license.test,
    keyHint: license.keyHint,
    expiresAt: end ? end.toISOString() : null,
    graceEndsAt: end ? new Date(end.getTime() + plan.graceDays * DAY_MS).toISOString() : null,
    trialEndsAt:
      license.status === 'trialing' && license.trialEnd ? license.trialEnd.toISOString() : null,
    pendingChange: pendingChangeView(license.pendingChange),
    seats: license.seats,
    devicesInUse: await devicesRepository(tx).countActive(license.id),
  };
}

/** An order as the API shows it. */
export interface OrderView {
  id: string;
  kind: OrderRecord['kind'];
  status: OrderRecord['status'];
  amount: number;
  currency: string;
  test: boolean;
}

export function orderView(order: OrderRecord): OrderView {
  return {
    id: order.id,
    kind: order.kind,
    status: order.status,
    amount: order.amount,
    currency: order.currency,
    test: order.test,
  };
}

/** The common part of a license event's data (webhooks): ids and terms, no secrets. */
export function licenseEventData(
  license: LicenseRecord,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    licenseId: license.id,
    customerId: license.customerId,
    productId: license.productId,
    planId: license.planId,
    status: license.status,
    seats: license.seats,
    periodEnd: license.periodEnd?.toISOString() ?? null,
    test: license.test,
    ...extra,
  };
}
