/**
 * Vendors: who sells each product and on what terms (share, payout hold). The store's own
 * vendor (config `vendor`) always exists and owns every product without a vendor_id, so a
 * single-vendor store needs no set-up.
 */
import { DEFAULT_VENDOR_SHARE_BPS, requireShareBps } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';

export const DEFAULT_HOLD_BUSINESS_DAYS = 22;

export interface InvoiceDetails {
  /** Legal name on invoices (default: the vendor's name). */
  legalName?: string;
  address?: string;
  taxId?: string;
  email?: string;
}

export interface Vendor {
  id: string;
  name: string;
  shareBps: number;
  holdDays: number;
  invoiceDetails: InvoiceDetails;
  createdAt: Date;
}

interface VendorRow {
  id: string;
  name: string;
  share_bps: number;
  hold_days: number;
  invoice_details: InvoiceDetails;
  created_at: Date;
}

const COLUMNS = 'id, name, share_bps, hold_days, invoice_details, created_at';

function toVendor(row: VendorRow): Vendor {
  return {
    id: row.id,
    name: row.name,
    shareBps: row.share_bps,
    holdDays: row.hold_days,
    invoiceDetails: row.invoice_details,
    createdAt: row.created_at,
  };
}

export interface NewVendor {
  id: string;
  name: string;
  shareBps?: number | undefined;
  holdDays?: number | undefined;
  invoiceDetails?: InvoiceDetails | undefined;
}

/** Creates the store's own vendor if it does not exist yet (at every start). */
export async function ensureStoreVendor(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO vendors (id, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (id) DO NOTHING`,
    [id, at],
  );
  // Which vendor owns the products without a vendor_id (events route by it).
  await db.query(`UPDATE vendors SET store = (id = $1) WHERE store <> (id = $1)`, [id]);
}

function checkTerms(shareBps: number | undefined, holdDays: number | undefined): void {
  try {
    if (shareBps !== undefined) requireShareBps(shareBps, 'shareBps');
  } catch {
    throw new StoreError('BAD_REQUEST', 'shareBps is a whole number of basis points, 0 to 10000.');
  }
  if (holdDays !== undefined && (!Number.isInteger(holdDays) || holdDays < 0 || holdDays > 2610)) {
    throw new StoreError('BAD_REQUEST', 'holdDays is a whole number of business days, 0 to 2610.');
  }
}

/** @throws StoreError CONFLICT when the id is taken; BAD_REQUEST for bad terms */
export async function createVendor(db: Queryable, input: NewVendor, at: Date): Promise<Vendor> {
  checkTerms(input.shareBps, input.holdDays);
  const [row] = await db.query<VendorRow>(
    `INSERT INTO vendors (id, name, share_bps, hold_days, invoice_details, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
    [
      input.id,
      input.name,
      input.shareBps ?? DEFAULT_VENDOR_SHARE_BPS,
      input.holdDays ?? DEFAULT_HOLD_BUSINESS_DAYS,
      JSON.stringify(input.invoiceDetails ?? {}),
      at,
    ],
  );
  if (!row) throw new StoreError('CONFLICT', `A vendor with the id ${input.id} exists.`);
  return toVendor(row);
}

export interface VendorChanges {
  name?: string | undefined;
  shareBps?: number | undefined;
  holdDays?: number | undefined;
  invoiceDetails?: InvoiceDetails | undefined;
}

/**
 * Changes a vendor's terms. A new share applies to payments from now on; what the ledger
 * already holds keeps the share it was booked with.
 * @throws StoreError VENDOR_NOT_FOUND
 */
export async function updateVendor(
  db: Queryable,
  id: string,
  changes: VendorChanges,
): Promise<Vendor> {
  checkTerms(changes.shareBps, changes.holdDays);
  const [row] = await db.query<VendorRow>(
    `UPDATE vendors SET name = COALESCE($2, name), share_bps = COALESCE($3, share_bps),
            hold_days = COALESCE($4, hold_days),
            invoice_details = COALESCE($5::jsonb, invoice_details)
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      changes.name ?? null,
      changes.shareBps ?? null,
      changes.holdDays ?? null,
      changes.invoiceDetails ? JSON.stringify(changes.invoiceDetails) : null,
    ],
  );
  if (!row) throw new StoreError('VENDOR_NOT_FOUND');
  return toVendor(row);
}

export async function listVendors(db: Queryable): Promise<Vendor[]> {
  const rows = await db.query<VendorRow>(`SELECT ${COLUMNS} FROM vendors ORDER BY created_at, id`);
  return rows.map(toVendor);
}

export async function vendorById(db: Queryable, id: string): Promise<Vendor | undefined> {
  const [row] = await db.query<VendorRow>(`SELECT ${COLUMNS} FROM vendors WHERE id = $1`, [id]);
  return row ? toVendor(row) : undefined;
}

/** The vendor selling a product: its vendor_id, or the store's own vendor. */
export async function vendorOfProduct(
  db: Queryable,
  productId: string,
  storeVendor: string,
): Promise<Vendor> {
  const [row] = await db.query<VendorRow>(
    `SELECT ${COLUMNS} FROM vendors
      WHERE id = COALESCE((SELECT vendor_id FROM products WHERE id = $1), $2)`,
    [productId, storeVendor],
  );
  if (!row) throw new StoreError('VENDOR_NOT_FOUND');
  return toVendor(row);
}

/**
 * SQL for the vendor an order belongs to, for an `orders` row aliased `o`: the vendor its
 * payment was booked to in the ledger, else (nothing booked: free, trial, unpaid) the vendor
 * selling its product now — `storeVendor` (a SQL expression) for a product without one.
 * Booked first because a product moved to another vendor leaves the orders paid before the
 * move with the vendor that sold them: their ledger lines, invoices and payouts are its
 * own, so the new vendor must not read them and the old one must keep them. The vendor
 * dashboard, the admin API's order scope and the routing of order events all use this.
 */
export function orderVendorSql(storeVendor: string): string {
  return `COALESCE(
    (SELECT booked.vendor_id FROM ledger_lines booked
      WHERE booked.order_id = o.id AND booked.kind = 'payment' LIMIT 1),
    (SELECT seller.vendor_id FROM products seller WHERE seller.id = o.product_id),
    ${storeVendor})`;
}

/**
 * Moves a product to a vendor (operator only). Orders already paid stay booked to the
 * vendor they were booked to.
 * @throws StoreError PRODUCT_NOT_FOUND, VENDOR_NOT_FOUND
 */
export async function assignProduct(
  db: Queryable,
  productId: string,
  vendorId: string,
): Promise<void> {
  if (!(await vendorById(db, vendorId))) throw new StoreError('VENDOR_NOT_FOUND');
  const rows = await db.query(`UPDATE products SET vendor_id = $2 WHERE id = $1 RETURNING id`, [
    productId,
    vendorId,
  ]);
  if (rows.length === 0) throw new StoreError('PRODUCT_NOT_FOUND');
}
