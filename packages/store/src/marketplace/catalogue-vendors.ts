/**
 * Who sells each product, for the storefront's grouping: a product's vendor_id, or the
 * store's own vendor for products without one (marketplace/vendors.ts).
 */
import type { Queryable } from '../db/client.js';

export interface ProductSeller {
  vendorId: string;
  vendorName: string;
}

/** The seller of every product, by product id. */
export async function sellersOfProducts(
  db: Queryable,
  storeVendor: string,
): Promise<Map<string, ProductSeller>> {
  const rows = await db.query<{ id: string; vendor_id: string; vendor_name: string | null }>(
    `SELECT p.id, COALESCE(p.vendor_id, $1) AS vendor_id, v.name AS vendor_name
       FROM products p LEFT JOIN vendors v ON v.id = COALESCE(p.vendor_id, $1)`,
    [storeVendor],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      { vendorId: row.vendor_id, vendorName: row.vendor_name ?? row.vendor_id },
    ]),
  );
}
