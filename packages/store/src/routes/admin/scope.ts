import type { FastifyRequest, RouteOptions } from 'fastify';
import type { Queryable } from '../../db/client.js';
import type { ErrorCode } from '../../errors.js';
import { StoreError } from '../../errors.js';
import { vendorScope } from '../../lib/auth.js';
import { orderVendorSql } from '../../marketplace/vendors.js';
import { errorResponses } from '../../schemas/error-responses.js';

/**
 * What a vendor token may touch: its vendor's products (products.vendor_id, or the store's
 * own vendor for products without one) and what hangs off them (plans, orders, licenses,
 * attachments). Another vendor's thing answers the route's 404, exactly as a thing that
 * does not exist: a vendor never learns what other vendors have.
 */

/** The ids of a vendor's products. */
export async function productsOfVendor(
  db: Queryable,
  storeVendor: string,
  vendorId: string,
): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM products WHERE COALESCE(vendor_id, $1) = $2 ORDER BY id`,
    [storeVendor, vendorId],
  );
  return rows.map((row) => row.id);
}

/** The vendor of a product; undefined when there is no such product. */
export async function vendorOfProductId(
  db: Queryable,
  storeVendor: string,
  productId: string,
): Promise<string | undefined> {
  const [row] = await db.query<{ vendor: string }>(
    `SELECT COALESCE(vendor_id, $1) AS vendor FROM products WHERE id = $2`,
    [storeVendor, productId],
  );
  return row?.vendor;
}

/** For lists: undefined for the operator (no filter), else the vendor's product ids. */
export async function scopedProductIds(request: FastifyRequest): Promise<string[] | undefined> {
  const vendorId = vendorScope(request);
  if (vendorId === undefined) return undefined;
  const { db, config } = request.server;
  return productsOfVendor(db, config.vendor, vendorId);
}

/** Throws `code` (a 404) when a vendor token names a product of another vendor (or none). */
export async function assertProductInScope(
  request: FastifyRequest,
  productId: string,
  code: ErrorCode = 'PRODUCT_NOT_FOUND',
  message?: string,
): Promise<void> {
  const vendorId = vendorScope(request);
  if (vendorId === undefined) return;
  const { db, config } = request.server;
  if ((await vendorOfProductId(db, config.vendor, productId)) !== vendorId)
    throw new StoreError(code, message);
}

/**
 * Same for a row that names its product (a license, an attachment). Not for orders: an
 * order is the vendor's it was booked to, whatever sells its product now (assertOrderInScope).
 */
export async function assertRowInScope(
  request: FastifyRequest,
  table: 'licenses' | 'attachments',
  id: string,
  code: ErrorCode,
  message?: string,
): Promise<void> {
  const vendorId = vendorScope(request);
  if (vendorId === undefined) return;
  const { db, config } = request.server;
  // The table name comes from the union above, never from the request.
  const [row] = await db.query<{ vendor: string }>(
    `SELECT COALESCE(p.vendor_id, $1) AS vendor FROM ${table} t
       JOIN products p ON p.id = t.product_id WHERE t.id = $2`,
    [config.vendor, id],
  );
  if (row?.vendor !== vendorId) throw new StoreError(code, message);
}

/** For order lists: undefined for the operator (no filter), else the vendor whose orders they are. */
export function scopedOrderVendor(
  request: FastifyRequest,
): { id: string; store: string } | undefined {
  const vendorId = vendorScope(request);
  return vendorId === undefined ? undefined : { id: vendorId, store: request.server.config.vendor };
}

/**
 * Throws ORDER_NOT_FOUND when a vendor token names an order that is not its own: booked to
 * another vendor (even of a product moved to this one since), or unbooked of another
 * vendor's product (marketplace/vendors.ts orderVendorSql).
 */
export async function assertOrderInScope(request: FastifyRequest, orderId: string): Promise<void> {
  const vendorId = vendorScope(request);
  if (vendorId === undefined) return;
  const { db, config } = request.server;
  const [row] = await db.query<{ vendor: string }>(
    `SELECT ${orderVendorSql('$1')} AS vendor FROM orders o WHERE o.id = $2`,
    [config.vendor, orderId],
  );
  if (row?.vendor !== vendorId) throw new StoreError('ORDER_NOT_FOUND');
}

/** Throws `code` when a vendor token names a record of another vendor (by its vendor id). */
export function assertVendorInScope(
  request: FastifyRequest,
  ownerVendorId: string,
  code: ErrorCode,
): void {
  const vendorId = vendorScope(request);
  if (vendorId !== undefined && vendorId !== ownerVendorId) throw new StoreError(code);
}

/** Route options of an admin route a vendor token may call (it scopes itself). */
export const VENDOR_ACCESS = { vendorAccess: true } as const;

interface ErrorSchemaShape {
  properties?: { error?: { properties?: { code?: { enum?: ErrorCode[] } } } };
}

/**
 * onRoute hook of the admin API: a route not open to vendors answers a vendor token 403
 * VENDOR_FORBIDDEN (lib/auth.ts), so its OpenAPI entry says so — added here, from the
 * same flag the check reads, rather than by hand on every route.
 */
export function documentVendorRefusal(route: RouteOptions): void {
  if (route.config?.vendorAccess === true || !route.schema?.response) return;
  const response = route.schema.response as Record<string, unknown>;
  const codes = (response[403] as ErrorSchemaShape | undefined)?.properties?.error?.properties?.code
    ?.enum;
  route.schema = {
    ...route.schema,
    response: {
      ...response,
      ...errorResponses({ 403: [...(codes ?? []), 'VENDOR_FORBIDDEN'] }),
    },
  };
}
