/**
 * Invoices and credit notes. Every paid order with an amount gets one invoice in the
 * transaction that books its payment; every refund gets a credit note that corrects it.
 * A document is only ever inserted: its number, parties, lines and amounts are fixed at
 * issue, so reprinting it years later gives the same document.
 *
 * Numbers run without gaps per series: the series row is locked and advanced inside the
 * issuing transaction, so a rollback gives the number back and two issuers queue on the
 * row. Series: INV / CN (per store), or INV-<vendor> / CN-<vendor> with per-vendor
 * numbering; test-mode documents run in their own TEST- series so they never take a live
 * number.
 */
import { splitIncludedTax } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { newId } from '../lib/ids.js';
import type { OrderRecord } from '../repositories/orders.js';
import type { StoreContext } from '../services/context.js';
import type { Vendor } from './vendors.js';

export type InvoiceKind = 'invoice' | 'credit_note';

export interface InvoiceLine {
  description: string;
  quantity: number;
  /** Line total, tax included, minor units (negative on a credit note). */
  amount: number;
}

export interface Party {
  name: string;
  address?: string;
  taxId?: string;
  email?: string;
}

export interface Invoice {
  id: string;
  kind: InvoiceKind;
  number: string;
  orderId: string;
  refundId: string | null;
  /** The invoice a credit note corrects. */
  corrects: string | null;
  correctsNumber: string | null;
  vendorId: string;
  customerId: string;
  currency: string;
  net: number;
  taxRateBps: number;
  tax: number;
  total: number;
  /** The vendor selling, and the store as the marketplace that collected. */
  seller: Party & { marketplace: string };
  buyer: Party;
  lines: InvoiceLine[];
  test: boolean;
  issuedAt: Date;
}

interface InvoiceRow {
  id: string;
  kind: InvoiceKind;
  series: string;
  number: string;
  order_id: string;
  refund_id: string | null;
  corrects: string | null;
  corrects_number: string | null;
  vendor_id: string;
  customer_id: string;
  currency: string;
  net_minor: string;
  tax_rate_bps: number;
  tax_minor: string;
  total_minor: string;
  seller: Invoice['seller'];
  buyer: Party;
  lines: InvoiceLine[];
  issued_at: Date;
}

const COLUMNS = `i.id, i.kind, i.series, i.number, i.order_id, i.refund_id, i.corrects,
  c.number AS corrects_number, i.vendor_id, i.customer_id, i.currency, i.net_minor,
  i.tax_rate_bps, i.tax_minor, i.total_minor, i.seller, i.buyer, i.lines, i.issued_at`;
const FROM = 'invoices i LEFT JOIN invoices c ON c.id = i.corrects';

function toInvoice(row: InvoiceRow): Invoice {
  return {
    id: row.id,
    kind: row.kind,
    number: row.number,
    orderId: row.order_id,
    refundId: row.refund_id,
    corrects: row.corrects,
    correctsNumber: row.corrects_number,
    vendorId: row.vendor_id,
    customerId: row.customer_id,
    currency: row.currency,
    net: Number(row.net_minor),
    taxRateBps: row.tax_rate_bps,
    tax: Number(row.tax_minor),
    total: Number(row.total_minor),
    seller: row.seller,
    buyer: row.buyer,
    lines: row.lines,
    test: row.series.startsWith('TEST-'),
    issuedAt: row.issued_at,
  };
}

function seriesName(ctx: StoreContext, kind: InvoiceKind, vendorId: string, test: boolean): string {
  const base = kind === 'invoice' ? 'INV' : 'CN';
  const scoped =
    ctx.config.marketplace.invoiceNumbering === 'vendor' ? `${base}-${vendorId}` : base;
  return test ? `TEST-${scoped}` : scoped;
}

/** The next number of a series, taken under the series row's lock (gap-free). */
async function nextNumber(tx: Queryable, series: string): Promise<{ seq: number; number: string }> {
  const [row] = await tx.query<{ last_number: string }>(
    `INSERT INTO invoice_series (series, last_number) VALUES ($1, 1)
     ON CONFLICT (series) DO UPDATE SET last_number = invoice_series.last_number + 1
     RETURNING last_number`,
    [series],
  );
  const seq = Number(row!.last_number);
  return { seq, number: `${series}-${String(seq).padStart(6, '0')}` };
}

const KIND_LABELS: Record<OrderRecord['kind'], string> = {
  purchase: 'purchase',
  trial: 'trial',
  upgrade: 'plan change, prorated',
  seats: 'seat change, prorated',
  renewal: 'renewal',
};

async function orderLine(tx: Queryable, order: OrderRecord): Promise<InvoiceLine> {
  const [names] = await tx.query<{ product: string; plan: string }>(
    `SELECT p.name AS product, pl.name AS plan FROM products p
       JOIN plans pl ON pl.product_id = p.id AND pl.id = $2 WHERE p.id = $1`,
    [order.productId, order.planId],
  );
  const period =
    order.details.periodStart && order.details.periodEnd
      ? `, ${order.details.periodStart.slice(0, 10)} to ${order.details.periodEnd.slice(0, 10)}`
      : '';
  return {
    description: `${names?.product ?? order.productId} — ${names?.plan ?? order.planId} (${KIND_LABELS[order.kind]}${period})`,
    quantity: order.seats,
    amount: order.amount,
  };
}

async function insertInvoice(
  tx: Queryable,
  ctx: StoreContext,
  input: Omit<
    Invoice,
    'id' | 'number' | 'correctsNumber' | 'net' | 'tax' | 'test' | 'taxRateBps'
  > & {
    test: boolean;
    taxRateBps: number;
  },
): Promise<Invoice> {
  const series = seriesName(ctx, input.kind, input.vendorId, input.test);
  const { seq, number } = await nextNumber(tx, series);
  const { net, tax } = splitIncludedTax(input.total, input.taxRateBps);
  const id = newId(input.kind === 'invoice' ? 'inv' : 'crn');
  await tx.query(
    `INSERT INTO invoices (id, kind, series, seq, number, order_id, refund_id, corrects, vendor_id,
       customer_id, currency, net_minor, tax_rate_bps, tax_minor, total_minor, seller, buyer,
       lines, issued_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      id,
      input.kind,
      series,
      seq,
      number,
      input.orderId,
      input.refundId,
      input.corrects,
      input.vendorId,
      input.customerId,
      input.currency,
      net,
      input.taxRateBps,
      tax,
      input.total,
      JSON.stringify(input.seller),
      JSON.stringify(input.buyer),
      JSON.stringify(input.lines),
      input.issuedAt,
    ],
  );
  return (await invoiceById(tx, id))!;
}

function sellerOf(ctx: StoreContext, vendor: Vendor): Invoice['seller'] {
  const details = vendor.invoiceDetails;
  return {
    name: details.legalName || vendor.name,
    ...(details.address ? { address: details.address } : {}),
    ...(details.taxId ? { taxId: details.taxId } : {}),
    ...(details.email ? { email: details.email } : {}),
    marketplace: ctx.config.marketplace.storeName,
  };
}

/** Issues the invoice of a paid order, once (a second call returns the first). */
export async function issueInvoice(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
  vendor: Vendor,
): Promise<Invoice> {
  const [existing] = await tx.query<InvoiceRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE i.order_id = $1 AND i.kind = 'invoice'`,
    [order.id],
  );
  if (existing) return toInvoice(existing);
  const [customer] = await tx.query<{ email: string }>(
    'SELECT email FROM customers WHERE id = $1',
    [order.customerId],
  );
  return insertInvoice(tx, ctx, {
    kind: 'invoice',
    orderId: order.id,
    refundId: null,
    corrects: null,
    vendorId: vendor.id,
    customerId: order.customerId,
    currency: order.currency,
    taxRateBps: ctx.config.marketplace.taxRateBps,
    total: order.amount,
    seller: sellerOf(ctx, vendor),
    buyer: { name: customer?.email ?? '', email: customer?.email ?? '' },
    lines: [await orderLine(tx, order)],
    test: order.test,
    issuedAt: order.paidAt ?? ctx.clock.now(),
  });
}

/** Issues the credit note of a refund: the invoice's parties and rate, negative amounts. */
export async function issueCreditNote(
  tx: Queryable,
  ctx: StoreContext,
  order: OrderRecord,
  refund: { id: string; amount: number; reason: string; at: Date },
): Promise<Invoice> {
  const [invoiceRow] = await tx.query<InvoiceRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE i.order_id = $1 AND i.kind = 'invoice'`,
    [order.id],
  );
  if (!invoiceRow) throw new StoreError('CONFLICT', 'The order has no invoice to credit.');
  const invoice = toInvoice(invoiceRow);
  return insertInvoice(tx, ctx, {
    kind: 'credit_note',
    orderId: order.id,
    refundId: refund.id,
    corrects: invoice.id,
    vendorId: invoice.vendorId,
    customerId: invoice.customerId,
    currency: invoice.currency,
    taxRateBps: invoice.taxRateBps,
    total: -refund.amount,
    seller: invoice.seller,
    buyer: invoice.buyer,
    lines: [
      {
        description: `Refund of ${invoice.number}${refund.reason ? `: ${refund.reason}` : ''}`,
        quantity: 1,
        amount: -refund.amount,
      },
    ],
    test: invoice.test,
    issuedAt: refund.at,
  });
}

export async function invoiceById(db: Queryable, id: string): Promise<Invoice | undefined> {
  const [row] = await db.query<InvoiceRow>(`SELECT ${COLUMNS} FROM ${FROM} WHERE i.id = $1`, [id]);
  return row ? toInvoice(row) : undefined;
}

export interface InvoiceFilter {
  customerId?: string | undefined;
  vendorId?: string | undefined;
  orderId?: string | undefined;
  limit?: number | undefined;
}

/** Documents, newest first (numbering order within a series). */
export async function listInvoices(db: Queryable, filter: InvoiceFilter): Promise<Invoice[]> {
  const rows = await db.query<InvoiceRow>(
    `SELECT ${COLUMNS} FROM ${FROM}
      WHERE ($1::text IS NULL OR i.customer_id = $1) AND ($2::text IS NULL OR i.vendor_id = $2)
        AND ($3::text IS NULL OR i.order_id = $3)
      ORDER BY i.issued_at DESC, i.series, i.seq DESC LIMIT $4`,
    [
      filter.customerId ?? null,
      filter.vendorId ?? null,
      filter.orderId ?? null,
      filter.limit ?? 100,
    ],
  );
  return rows.map(toInvoice);
}
