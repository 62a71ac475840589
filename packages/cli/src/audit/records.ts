/**
 * The store's records in an export (catalogue, licenses, orders), loaded into compact
 * maps for the lineage checks. They are what justify each token: a raised quota needs a
 * paid order, a charge is recomputed from the plans. Orders and licenses are a few small
 * fields each; the entries, which are what grows, are never held.
 */
import { join } from 'node:path';
import type { QuotaSpec } from '@licensekit/core';
import type { Findings } from './findings.js';
import { FILES } from './layout.js';
import { exists, type ReadDigest, readJson, readRecords } from './reader.js';

export interface PlanTerms {
  readonly productId: string;
  readonly id: string;
  /** Minor units per period (per seat when perSeat). */
  readonly price: number;
  readonly currency: string;
  readonly interval: 'month' | 'year' | 'once';
  readonly perSeat: boolean;
  readonly quotas: Readonly<Record<string, QuotaSpec>>;
  readonly entitlements: readonly string[];
}

export interface OrderRecord {
  readonly id: string;
  readonly kind: string;
  readonly planId: string;
  readonly seats: number;
  readonly amount: number;
  readonly currency: string;
  readonly status: string;
  /** Seconds. */
  readonly createdAt: number;
  readonly paidAt: number | undefined;
}

export interface LicenseRecord {
  readonly productId: string;
  readonly customerId: string;
  readonly anchor: number | undefined;
  readonly seq: number;
  readonly revokedAt: number | undefined;
}

export interface StoreRecords {
  readonly plans: ReadonlyMap<string, PlanTerms>;
  readonly licenses: ReadonlyMap<string, LicenseRecord> | undefined;
  /** Orders by license id, oldest first. */
  readonly orders: ReadonlyMap<string, readonly OrderRecord[]> | undefined;
  readonly orderCount: number;
}

export function planKey(productId: string, planId: string): string {
  return `${productId}/${planId}`;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const whole = (value: unknown): number | undefined =>
  Number.isSafeInteger(value) ? (value as number) : undefined;

/** ISO time → seconds. */
function instant(value: unknown): number | undefined {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

function planOf(productId: string, raw: Record<string, unknown>): PlanTerms | undefined {
  const price = raw.price as { amount?: unknown; currency?: unknown } | undefined;
  const id = text(raw.id);
  const amount = whole(price?.amount);
  const interval = raw.interval;
  if (id === undefined || amount === undefined) return undefined;
  if (interval !== 'month' && interval !== 'year' && interval !== 'once') return undefined;
  return {
    productId,
    id,
    price: amount,
    currency: text(price?.currency) ?? '',
    interval,
    perSeat: raw.perSeat === true,
    quotas: (raw.quotas ?? {}) as Record<string, QuotaSpec>,
    entitlements: Array.isArray(raw.entitlements) ? (raw.entitlements as string[]) : [],
  };
}

/** Loads what the export has; a missing or damaged file is a finding, not a stop. */
export async function loadRecords(
  dir: string,
  findings: Findings,
  digests: Map<string, ReadDigest>,
): Promise<StoreRecords> {
  const plans = new Map<string, PlanTerms>();
  const catalogue = (await readJson(join(dir, FILES.catalogue))) as
    | { products?: { id?: unknown; plans?: unknown[] }[] }
    | undefined;
  if (!Array.isArray(catalogue?.products)) {
    findings.add(
      'export.file',
      `${FILES.catalogue} is missing or not the store's catalogue: charges cannot be recomputed`,
    );
  }
  for (const product of catalogue?.products ?? []) {
    const productId = text(product.id);
    if (productId === undefined || !Array.isArray(product.plans)) continue;
    for (const raw of product.plans) {
      const plan = planOf(productId, raw as Record<string, unknown>);
      if (plan !== undefined) plans.set(planKey(productId, plan.id), plan);
    }
  }

  const badLine = (file: string) => (line: number) =>
    findings.add('export.file', `${file} line ${line} is not a JSON object; it is ignored`);

  let licenses: Map<string, LicenseRecord> | undefined;
  const licensesPath = join(dir, FILES.licenses);
  if (await exists(licensesPath)) {
    licenses = new Map();
    const digest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
    for await (const raw of readRecords(licensesPath, badLine(FILES.licenses), digest)) {
      const id = text(raw.id);
      const productId = text(raw.productId);
      if (id === undefined || productId === undefined) continue;
      licenses.set(id, {
        productId,
        customerId: text(raw.customerId) ?? '',
        anchor: instant(raw.anchor),
        seq: whole(raw.seq) ?? -1,
        revokedAt: instant(raw.revokedAt),
      });
    }
    digests.set(FILES.licenses, digest);
  } else {
    findings.add('export.file', `${FILES.licenses} is missing: tokens are not matched to licenses`);
  }

  let orders: Map<string, OrderRecord[]> | undefined;
  let orderCount = 0;
  const ordersPath = join(dir, FILES.orders);
  if (await exists(ordersPath)) {
    orders = new Map();
    const digest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
    for await (const raw of readRecords(ordersPath, badLine(FILES.orders), digest)) {
      const licenseId = text(raw.licenseId);
      const id = text(raw.id);
      const createdAt = instant(raw.createdAt);
      if (licenseId === undefined || id === undefined || createdAt === undefined) continue;
      const order: OrderRecord = {
        id,
        kind: text(raw.kind) ?? '',
        planId: text(raw.planId) ?? '',
        seats: whole(raw.seats) ?? 1,
        amount: whole(raw.amount) ?? 0,
        currency: text(raw.currency) ?? '',
        status: text(raw.status) ?? '',
        createdAt,
        paidAt: instant(raw.paidAt),
      };
      const list = orders.get(licenseId);
      if (list === undefined) orders.set(licenseId, [order]);
      else list.push(order);
      orderCount += 1;
    }
    for (const list of orders.values()) list.sort((a, b) => a.createdAt - b.createdAt);
    digests.set(FILES.orders, digest);
  } else {
    findings.add(
      'export.file',
      `${FILES.orders} is missing: raised terms cannot be matched to orders`,
    );
  }
  return { plans, licenses, orders, orderCount };
}
