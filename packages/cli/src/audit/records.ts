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
  /**
   * Set by the lineage check once the order has justified a token: one order pays for one
   * change. A flag here rather than a set per license keeps the audit's memory flat.
   */
  justified: boolean;
  readonly kind: string;
  readonly planId: string;
  readonly seats: number;
  readonly amount: number;
  readonly currency: string;
  /** Seconds. */
  readonly createdAt: number;
  readonly paidAt: number | undefined;
}

export interface LicenseRecord {
  readonly productId: string;
  readonly anchor: number | undefined;
  readonly seq: number;
  readonly revokedAt: number | undefined;
  /**
   * The license's paid orders, oldest first (undefined: none), kept here rather than in a
   * map of their own; the lineage check drops those its later tokens can no longer use.
   */
  orders: OrderRecord[] | undefined;
  /**
   * The lineage check's state of the license (lineage.ts), kept on its record so that the
   * state of each of a store's licenses costs no map entry of its own.
   */
  lineage: unknown;
}

export interface StoreRecords {
  readonly plans: ReadonlyMap<string, PlanTerms>;
  readonly licenses: ReadonlyMap<string, LicenseRecord> | undefined;
  /** Whether the export has its orders (orders.jsonl). */
  readonly hasOrders: boolean;
  /** The paid orders of a license, oldest first. */
  ordersOf(license: string): readonly OrderRecord[];
  readonly orderCount: number;
}

/** Order lists up to this long are grown by copying (see loadRecords). */
const SMALL_LIST = 8;

export function planKey(productId: string, planId: string): string {
  return `${productId}/${planId}`;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const whole = (value: unknown): number | undefined =>
  Number.isSafeInteger(value) ? (value as number) : undefined;

/**
 * One copy of each repeated value (plan ids, kinds, statuses): JSON.parse gives every
 * record its own strings, and hundreds of thousands of orders would hold as many copies.
 */
export class Interner {
  readonly #values = new Map<string, string>();

  of(value: string): string {
    const known = this.#values.get(value);
    if (known !== undefined) return known;
    if (this.#values.size < 10_000) this.#values.set(value, value);
    return value;
  }
}

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

  const intern = new Interner();
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
        productId: intern.of(productId),
        anchor: instant(raw.anchor),
        seq: whole(raw.seq) ?? -1,
        revokedAt: instant(raw.revokedAt),
        orders: undefined,
        lineage: undefined,
      });
    }
    digests.set(FILES.licenses, digest);
  } else {
    findings.add('export.file', `${FILES.licenses} is missing: tokens are not matched to licenses`);
  }

  /** Orders of licenses licenses.jsonl does not have (or all, without it). */
  const orphans = new Map<string, OrderRecord[]>();
  let hasOrders = false;
  let orderCount = 0;
  const ordersPath = join(dir, FILES.orders);
  if (await exists(ordersPath)) {
    hasOrders = true;
    const digest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
    for await (const raw of readRecords(ordersPath, badLine(FILES.orders), digest)) {
      const licenseId = text(raw.licenseId);
      const id = text(raw.id);
      const createdAt = instant(raw.createdAt);
      if (licenseId === undefined || id === undefined || createdAt === undefined) continue;
      orderCount += 1;
      // Only a paid order justifies a token (lineage.ts): the others are counted, not kept.
      if (raw.status !== 'paid') continue;
      const order: OrderRecord = {
        id,
        justified: false,
        kind: intern.of(text(raw.kind) ?? ''),
        planId: intern.of(text(raw.planId) ?? ''),
        seats: whole(raw.seats) ?? 1,
        amount: whole(raw.amount) ?? 0,
        currency: intern.of(text(raw.currency) ?? ''),
        createdAt,
        paidAt: instant(raw.paidAt),
      };
      const license = licenses?.get(licenseId);
      const list = (license === undefined ? orphans.get(licenseId) : license.orders) ?? [];
      // A few orders a license: a copy of exactly the length, where push would grow the
      // list to room for 17 or more (hundreds of thousands of lists are all loaded at once).
      const grown = list.length < SMALL_LIST ? [...list, order] : list;
      if (grown === list) list.push(order);
      if (license !== undefined) license.orders = grown;
      else orphans.set(licenseId, grown);
    }
    const oldestFirst = (a: OrderRecord, b: OrderRecord) => a.createdAt - b.createdAt;
    for (const license of licenses?.values() ?? []) {
      const list = license.orders;
      if (list === undefined) continue;
      list.sort(oldestFirst);
      // Long lists grew by push: trim them to their length.
      if (list.length >= SMALL_LIST) license.orders = list.slice();
    }
    for (const [license, list] of orphans) orphans.set(license, list.sort(oldestFirst).slice());
    digests.set(FILES.orders, digest);
  } else {
    findings.add(
      'export.file',
      `${FILES.orders} is missing: raised terms cannot be matched to orders`,
    );
  }
  const none: readonly OrderRecord[] = [];
  return {
    plans,
    licenses,
    hasOrders,
    ordersOf: (license) => licenses?.get(license)?.orders ?? orphans.get(license) ?? none,
    orderCount,
  };
}
