/**
 * What a portal session may see beyond its own license (README "Portal: licenses and
 * invoices"). A session is opened for one license, by one of two proofs:
 *
 * - the license key (or the checkout that showed it): proves the license, not the
 *   customer — a key is handed to colleagues, pasted in configs, stolen. Such a session sees
 *   its license and the invoices and credit notes of that license's own orders, nothing of
 *   the customer's other licenses (not even how many there are).
 * - an e-mail link (services/mail-sign-in.ts): proves the mailbox of the customer, so the
 *   session sees every license of that customer, from every vendor, and every document,
 *   and may open any of those licenses.
 */
import type { Queryable } from '../db/client.js';
import type { Invoice } from '../marketplace/invoices.js';
import { invoiceById, listInvoices } from '../marketplace/invoices.js';
import type { StoreContext } from './context.js';
import { isLinkSession } from './mail-sign-in.js';

export interface PortalReach {
  licenseId: string;
  customerId: string;
  /** Opened by an e-mail link: the whole customer is in reach. */
  customerProven: boolean;
}

/** The reach of a session (its license must exist: sessions end with their license). */
export async function portalReach(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'secrets'>,
  session: { id: string; licenseId: string },
): Promise<PortalReach> {
  const [row] = await ctx.db.query<{ customer_id: string }>(
    'SELECT customer_id FROM licenses WHERE id = $1',
    [session.licenseId],
  );
  if (!row) throw new Error('portal session without its license');
  return {
    licenseId: session.licenseId,
    customerId: row.customer_id,
    customerProven: await isLinkSession(ctx, session),
  };
}

/** Whether an invoice or credit note is in reach. */
async function inReach(db: Queryable, reach: PortalReach, invoice: Invoice): Promise<boolean> {
  if (invoice.customerId !== reach.customerId) return false;
  if (reach.customerProven) return true;
  const [order] = await db.query<{ license_id: string | null }>(
    'SELECT license_id FROM orders WHERE id = $1',
    [invoice.orderId],
  );
  return order?.license_id === reach.licenseId;
}

/** The documents in reach, newest first (at most `limit`). */
export async function documentsInReach(
  db: Queryable,
  reach: PortalReach,
  limit = 200,
): Promise<Invoice[]> {
  const documents = await listInvoices(db, { customerId: reach.customerId, limit });
  if (reach.customerProven) return documents;
  const orders = await db.query<{ id: string }>('SELECT id FROM orders WHERE license_id = $1', [
    reach.licenseId,
  ]);
  const own = new Set(orders.map((order) => order.id));
  return documents.filter((document) => own.has(document.orderId));
}

/** One document if it is in reach; undefined for an unknown id and for anyone else's. */
export async function documentInReach(
  db: Queryable,
  reach: PortalReach,
  id: string,
): Promise<Invoice | undefined> {
  if (!/^[\w-]{1,64}$/.test(id)) return undefined;
  const invoice = await invoiceById(db, id);
  return invoice && (await inReach(db, reach, invoice)) ? invoice : undefined;
}

export interface CustomerLicense {
  id: string;
  productId: string;
  productName: string;
  planName: string;
  vendorName: string;
  status: string;
  keyHint: string;
  test: boolean;
  createdAt: Date;
}

/**
 * The licenses in reach, with what the list names them by: every license of the customer
 * when proven, else only the session's own.
 */
export async function licensesInReach(
  db: Queryable,
  reach: PortalReach,
  storeVendor: string,
): Promise<CustomerLicense[]> {
  const rows = await db.query<{
    id: string;
    product_id: string;
    product_name: string | null;
    plan_name: string | null;
    plan_id: string;
    vendor_name: string | null;
    status: string;
    revoked_at: Date | null;
    key_hint: string;
    test: boolean;
    created_at: Date;
  }>(
    `SELECT l.id, l.product_id, p.name AS product_name, l.plan_id, pl.name AS plan_name,
            v.name AS vendor_name, l.status, l.revoked_at, l.key_hint, l.test, l.created_at
       FROM licenses l
       LEFT JOIN products p ON p.id = l.product_id
       LEFT JOIN plans pl ON pl.product_id = l.product_id AND pl.id = l.plan_id
       LEFT JOIN vendors v ON v.id = COALESCE(p.vendor_id, $3)
      WHERE l.customer_id = $1 AND ($2::text IS NULL OR l.id = $2)
      ORDER BY l.created_at DESC, l.id`,
    [reach.customerId, reach.customerProven ? null : reach.licenseId, storeVendor],
  );
  return rows.map((row) => ({
    id: row.id,
    productId: row.product_id,
    productName: row.product_name ?? row.product_id,
    planName: row.plan_name ?? row.plan_id,
    vendorName: row.vendor_name ?? storeVendor,
    status: row.revoked_at !== null ? 'revoked' : row.status,
    keyHint: row.key_hint,
    test: row.test,
    createdAt: row.created_at,
  }));
}
