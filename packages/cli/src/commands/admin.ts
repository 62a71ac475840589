import type { QuotaSpec } from '@licensekit/core';
import type { AdminTarget } from '../lib/admin-client.js';
import { adminClient } from '../lib/admin-client.js';
import { EXIT, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import { isName, parseQuota } from '../lib/quota.js';

export interface AdminFlags extends AdminTarget {
  json?: boolean;
}

export interface ProductFlags extends AdminFlags {
  id: string;
  name: string;
  description?: string;
}

export interface PlanFlags extends AdminFlags {
  product: string;
  id: string;
  name: string;
  price: string;
  currency?: string;
  interval: string;
  termDays?: string;
  trialDays?: string;
  perSeat?: boolean;
  seats?: string;
  quota?: string[];
  feature?: string[];
  graceDays?: string;
}

export interface ListFlags extends AdminFlags {
  status?: string;
  email?: string;
  product?: string;
}

export interface RevokeLicenseFlags extends AdminFlags {
  reason?: string;
}

function whole(text: string | undefined, flag: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,12}$/.test(text) || Number(text) < min)
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a whole number ≥ ${min}`);
  return Number(text);
}

function print(io: Io, flags: AdminFlags, value: unknown, summary: () => string): number {
  io.out(flags.json ? `${JSON.stringify(value, null, 2)}\n` : `${summary()}\n`);
  return EXIT.ok;
}

const query = (params: Record<string, string | undefined>) => {
  const search = new URLSearchParams(
    Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const text = search.toString();
  return text ? `?${text}` : '';
};

interface Product {
  id: string;
  name: string;
  plans: {
    id: string;
    name: string;
    price: { amount: number; currency: string };
    interval: string;
    active?: boolean;
  }[];
}

export async function listProducts(flags: AdminFlags, io: Io): Promise<number> {
  const reply = (await (await adminClient(flags)).request('GET', '/v1/admin/products')) as {
    products: Product[];
  };
  return print(io, flags, reply, () =>
    reply.products
      .map(
        (product) =>
          `${product.id}  ${product.name}\n${product.plans
            .map(
              (plan) =>
                `  ${plan.id}  ${plan.name}  ${plan.price.amount} ${plan.price.currency} / ${plan.interval}${plan.active === false ? '  (inactive)' : ''}`,
            )
            .join('\n')}`,
      )
      .join('\n'),
  );
}

export async function createProduct(flags: ProductFlags, io: Io): Promise<number> {
  const body = {
    id: flags.id,
    name: flags.name,
    ...(flags.description ? { description: flags.description } : {}),
  };
  const reply = await (await adminClient(flags)).request('POST', '/v1/admin/products', body);
  return print(io, flags, reply, () => `product ${flags.id} saved`);
}

export async function createPlan(flags: PlanFlags, io: Io): Promise<number> {
  if (!['month', 'year', 'once'].includes(flags.interval))
    throw new UsageError('--interval must be month, year or once');
  const quotas: Record<string, QuotaSpec> = {};
  for (const text of flags.quota ?? []) {
    for (const part of text.split(',')) {
      const { name, spec } = parseQuota(part);
      quotas[name] = spec;
    }
  }
  const entitlements = (flags.feature ?? [])
    .flatMap((text) => text.split(','))
    .map((name) => name.trim());
  for (const name of entitlements)
    if (!isName(name))
      throw new UsageError(`--feature ${JSON.stringify(name)} is not a valid name`);
  const body = {
    id: flags.id,
    name: flags.name,
    price: {
      amount: whole(flags.price, '--price'),
      currency: (flags.currency ?? 'USD').toUpperCase(),
    },
    interval: flags.interval,
    ...(flags.termDays !== undefined ? { termDays: whole(flags.termDays, '--term-days', 1) } : {}),
    ...(flags.trialDays !== undefined ? { trialDays: whole(flags.trialDays, '--trial-days') } : {}),
    ...(flags.perSeat ? { perSeat: true } : {}),
    ...(flags.seats !== undefined ? { seats: whole(flags.seats, '--seats', 1) } : {}),
    ...(Object.keys(quotas).length > 0 ? { quotas } : {}),
    ...(entitlements.length > 0 ? { entitlements } : {}),
    ...(flags.graceDays !== undefined ? { graceDays: whole(flags.graceDays, '--grace-days') } : {}),
  };
  const reply = await (await adminClient(flags)).request(
    'POST',
    `/v1/admin/products/${encodeURIComponent(flags.product)}/plans`,
    body,
  );
  return print(io, flags, reply, () => `plan ${flags.product}/${flags.id} saved`);
}

interface Order {
  id: string;
  status: string;
  amount: { amount: number; currency: string };
  customerEmail: string;
  productId: string;
  planId: string;
  test: boolean;
}

export async function listOrders(flags: ListFlags, io: Io): Promise<number> {
  const path = `/v1/admin/orders${query({ status: flags.status, customerEmail: flags.email, productId: flags.product })}`;
  const reply = (await (await adminClient(flags)).request('GET', path)) as { orders: Order[] };
  return print(io, flags, reply, () =>
    reply.orders.length === 0
      ? 'no orders'
      : reply.orders
          .map(
            (order) =>
              `${order.id}  ${order.status}  ${order.productId}/${order.planId}  ${order.amount.amount} ${order.amount.currency}  ${order.customerEmail}${order.test ? '  TEST' : ''}`,
          )
          .join('\n'),
  );
}

export async function markPaid(orderId: string, flags: AdminFlags, io: Io): Promise<number> {
  const reply = await (await adminClient(flags)).request(
    'POST',
    `/v1/admin/orders/${encodeURIComponent(orderId)}/mark-paid`,
    {},
  );
  return print(io, flags, reply, () => `order ${orderId} marked paid`);
}

interface LicenseRow {
  id: string;
  status: string;
  productId: string;
  planId: string;
  customerEmail: string;
  keyHint: string;
}

export async function listLicenses(flags: ListFlags, io: Io): Promise<number> {
  const path = `/v1/admin/licenses${query({ status: flags.status, customerEmail: flags.email, productId: flags.product })}`;
  const reply = (await (await adminClient(flags)).request('GET', path)) as {
    licenses: LicenseRow[];
  };
  return print(io, flags, reply, () =>
    reply.licenses.length === 0
      ? 'no licenses'
      : reply.licenses
          .map(
            (license) =>
              `${license.id}  ${license.status}  ${license.productId}/${license.planId}  ${license.customerEmail}  key …${license.keyHint}`,
          )
          .join('\n'),
  );
}

export async function revokeLicense(
  licenseId: string,
  flags: RevokeLicenseFlags,
  io: Io,
): Promise<number> {
  const body = flags.reason ? { reason: flags.reason } : {};
  const reply = await (await adminClient(flags)).request(
    'POST',
    `/v1/admin/licenses/${encodeURIComponent(licenseId)}/revoke`,
    body,
  );
  return print(io, flags, reply, () => `license ${licenseId} revoked`);
}
