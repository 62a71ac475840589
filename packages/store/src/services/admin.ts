import {
  base64urlDecode,
  base64urlEncode,
  MalformedError,
  utf8Decode,
  utf8Encode,
} from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { orderVendorSql } from '../marketplace/vendors.js';
import type { PlanRow } from '../repositories/catalogue.js';
import { PLAN_COLUMNS, toPlan } from '../repositories/catalogue.js';
import type { LicenseRecord, LicenseStatus } from '../repositories/licenses.js';
import { LICENSE_COLUMNS, toLicense } from '../repositories/licenses.js';
import type { Plan } from '../schemas/catalogue.js';

/**
 * Reads for the admin API that the customer-facing repositories do not need: the whole
 * catalogue with inactive plans, orders and licenses with filters and keyset pagination.
 */

// ---------------------------------------------------------------- pagination

/** An opaque cursor: the (created_at, id) of the last row of the previous page. */
export function encodeCursor(createdAt: Date, id: string): string {
  return base64urlEncode(utf8Encode(`${createdAt.toISOString()}|${id}`));
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = utf8Decode(base64urlDecode(cursor, 'cursor')).split('|');
    const createdAt = new Date(at ?? '');
    if (!id || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor');
    return { createdAt, id };
  } catch (error) {
    if (error instanceof MalformedError || error instanceof Error)
      throw new StoreError('BAD_REQUEST', 'The cursor is not valid.');
    throw error;
  }
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Adds a `(created_at, id) < cursor` condition (newest first) and runs the page query. */
async function page<Row extends { created_at: Date; id: string }, T>(
  db: Queryable,
  select: string,
  conditions: string[],
  params: unknown[],
  options: { limit: number; cursor?: string | undefined },
  map: (row: Row) => T,
  alias = '',
): Promise<Page<T>> {
  const where = [...conditions];
  const values = [...params];
  if (options.cursor) {
    const { createdAt, id } = decodeCursor(options.cursor);
    values.push(createdAt, id);
    where.push(`(${alias}created_at, ${alias}id) < ($${values.length - 1}, $${values.length})`);
  }
  values.push(options.limit + 1);
  const rows = await db.query<Row>(
    `${select} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${alias}created_at DESC, ${alias}id DESC LIMIT $${values.length}`,
    values,
  );
  const more = rows.length > options.limit;
  const items = rows.slice(0, options.limit);
  const last = items.at(-1);
  return {
    items: items.map(map),
    nextCursor: more && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

// ---------------------------------------------------------------- catalogue

/** A plan as the storefront shows it, plus what only the admin sees. */
export type AdminPlan = Plan & { position: number; active: boolean };

export interface AdminProduct {
  id: string;
  name: string;
  description: string;
  plans: AdminPlan[];
}

/** Every product with every plan, active or not. */
export async function adminCatalogue(db: Queryable, productId?: string): Promise<AdminProduct[]> {
  const products = await db.query<{ id: string; name: string; description: string }>(
    `SELECT id, name, description FROM products WHERE ($1::text IS NULL OR id = $1) ORDER BY id`,
    [productId ?? null],
  );
  const plans = await db.query<PlanRow & { position: number; active: boolean }>(
    `SELECT ${PLAN_COLUMNS}, position, active
       FROM plans WHERE ($1::text IS NULL OR product_id = $1) ORDER BY position, price_minor, id`,
    [productId ?? null],
  );
  return products.map((product) => ({
    ...product,
    plans: plans
      .filter((row) => row.product_id === product.id)
      .map((row) => ({ ...toPlan(row), position: row.position, active: row.active })),
  }));
}

/** Deactivates every plan of a product: it leaves the storefront, existing licenses keep working. */
export async function deactivateProduct(db: Queryable, productId: string): Promise<number> {
  const rows = await db.query(
    'UPDATE plans SET active = false WHERE product_id = $1 AND active RETURNING id',
    [productId],
  );
  return rows.length;
}

// ---------------------------------------------------------------- orders

export interface AdminOrder {
  id: string;
  customerId: string;
  customerEmail: string;
  productId: string;
  planId: string;
  licenseId: string | null;
  kind: string;
  seats: number;
  amount: { amount: number; currency: string };
  provider: string;
  providerRef: string | null;
  status: 'pending' | 'paid' | 'failed' | 'cancelled' | 'refunded';
  test: boolean;
  createdAt: Date;
  paidAt: Date | null;
  /**
   * What the order was priced from (a plan change: fromPlan, fromSeats, the new period):
   * what an auditor needs to recompute a prorated charge. No secret is ever in it.
   */
  details: Record<string, unknown>;
}

interface OrderRow {
  id: string;
  customer_id: string;
  email: string;
  product_id: string;
  plan_id: string;
  license_id: string | null;
  kind: string;
  seats: number;
  amount_minor: number;
  currency: string;
  provider: string;
  provider_ref: string | null;
  status: AdminOrder['status'];
  test: boolean;
  created_at: Date;
  paid_at: Date | null;
  details: Record<string, unknown> | null;
}

function toAdminOrder(row: OrderRow): AdminOrder {
  return {
    id: row.id,
    customerId: row.customer_id,
    customerEmail: row.email,
    productId: row.product_id,
    planId: row.plan_id,
    licenseId: row.license_id,
    kind: row.kind,
    seats: row.seats,
    amount: { amount: Number(row.amount_minor), currency: row.currency },
    provider: row.provider,
    providerRef: row.provider_ref,
    status: row.status,
    test: row.test,
    createdAt: row.created_at,
    paidAt: row.paid_at,
    details: row.details ?? {},
  };
}

const ORDER_SELECT = `SELECT o.id, o.customer_id, c.email, o.product_id, o.plan_id, o.license_id, o.kind,
    o.seats, o.amount_minor, o.currency, o.provider, o.provider_ref, o.status, o.test, o.created_at, o.paid_at,
    o.details
  FROM orders o JOIN customers c ON c.id = o.customer_id`;

export interface OrderFilters {
  status?: string | undefined;
  productId?: string | undefined;
  licenseId?: string | undefined;
  customerEmail?: string | undefined;
  provider?: string | undefined;
  test?: boolean | undefined;
  /**
   * Only the orders of this vendor (a vendor's admin token): those booked to it, and the
   * unbooked ones of its products (marketplace/vendors.ts orderVendorSql), never by product
   * alone: a product moved to it brings its licenses, not the sales of its former vendor.
   * `store` is the store's own vendor, who sells the products without a vendor.
   */
  vendor?: { id: string; store: string } | undefined;
  limit: number;
  cursor?: string | undefined;
}

export async function listOrders(db: Queryable, filters: OrderFilters): Promise<Page<AdminOrder>> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (filters.status !== undefined) add('o.status = ?', filters.status);
  if (filters.productId !== undefined) add('o.product_id = ?', filters.productId);
  if (filters.licenseId !== undefined) add('o.license_id = ?', filters.licenseId);
  if (filters.customerEmail !== undefined) add('lower(c.email) = lower(?)', filters.customerEmail);
  if (filters.provider !== undefined) add('o.provider = ?', filters.provider);
  if (filters.test !== undefined) add('o.test = ?', filters.test);
  if (filters.vendor !== undefined) {
    params.push(filters.vendor.store, filters.vendor.id);
    conditions.push(`${orderVendorSql(`$${params.length - 1}`)} = $${params.length}`);
  }
  return page<OrderRow, AdminOrder>(
    db,
    ORDER_SELECT,
    conditions,
    params,
    filters,
    toAdminOrder,
    'o.',
  );
}

export async function getOrder(db: Queryable, id: string): Promise<AdminOrder | undefined> {
  const [row] = await db.query<OrderRow>(`${ORDER_SELECT} WHERE o.id = $1`, [id]);
  return row ? toAdminOrder(row) : undefined;
}

// ---------------------------------------------------------------- licenses

export interface LicenseFilters {
  status?: LicenseStatus | undefined;
  productId?: string | undefined;
  customerEmail?: string | undefined;
  /** Only licenses of these products (a vendor's admin token sees its products only). */
  productIds?: readonly string[] | undefined;
  limit: number;
  cursor?: string | undefined;
}

export async function listLicenses(
  db: Queryable,
  filters: LicenseFilters,
): Promise<Page<LicenseRecord & { customerEmail: string }>> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (filters.status !== undefined) add('l.status = ?', filters.status);
  if (filters.productId !== undefined) add('l.product_id = ?', filters.productId);
  if (filters.customerEmail !== undefined) add('lower(c.email) = lower(?)', filters.customerEmail);
  if (filters.productIds !== undefined) add('l.product_id = ANY(?::text[])', filters.productIds);
  const columns = LICENSE_COLUMNS.split(',')
    .map((column) => `l.${column.trim()}`)
    .join(', ');
  type Row = Parameters<typeof toLicense>[0] & { email: string };
  return page<Row, LicenseRecord & { customerEmail: string }>(
    db,
    `SELECT ${columns}, c.email FROM licenses l JOIN customers c ON c.id = l.customer_id`,
    conditions,
    params,
    filters,
    (row) => ({ ...toLicense(row), customerEmail: row.email }),
    'l.',
  );
}

export interface LicenseDetail {
  license: LicenseRecord & { customerEmail: string };
  devices: {
    id: string;
    thumbprint: string;
    name: string;
    activatedAt: Date;
    lastSeenAt: Date | null;
    deactivatedAt: Date | null;
  }[];
  tokens: { issued: number; lastIssuedAt: Date | null };
}

export async function getLicenseDetail(
  db: Queryable,
  id: string,
): Promise<LicenseDetail | undefined> {
  const columns = LICENSE_COLUMNS.split(',')
    .map((column) => `l.${column.trim()}`)
    .join(', ');
  const [row] = await db.query<Parameters<typeof toLicense>[0] & { email: string }>(
    `SELECT ${columns}, c.email FROM licenses l JOIN customers c ON c.id = l.customer_id WHERE l.id = $1`,
    [id],
  );
  if (!row) return undefined;
  const devices = await db.query<{
    id: string;
    thumbprint: string;
    name: string;
    activated_at: Date;
    last_seen_at: Date | null;
    deactivated_at: Date | null;
  }>(
    `SELECT id, thumbprint, name, activated_at, last_seen_at, deactivated_at FROM devices
      WHERE license_id = $1 ORDER BY activated_at, id`,
    [id],
  );
  const [tokens] = await db.query<{ issued: number; last: Date | null }>(
    'SELECT count(*)::bigint AS issued, max(issued_at) AS last FROM tokens WHERE license_id = $1',
    [id],
  );
  return {
    license: { ...toLicense(row), customerEmail: row.email },
    devices: devices.map((d) => ({
      id: d.id,
      thumbprint: d.thumbprint,
      name: d.name,
      activatedAt: d.activated_at,
      lastSeenAt: d.last_seen_at,
      deactivatedAt: d.deactivated_at,
    })),
    tokens: { issued: Number(tokens?.issued ?? 0), lastIssuedAt: tokens?.last ?? null },
  };
}
