/**
 * What a vendor's dashboard shows of its sales, read from the ledger (marketplace/ledger.ts):
 * totals for the last 30 days and all time, gross sales per day for the chart, and its
 * recent orders. Every query is scoped by vendor id: a vendor's numbers are made of its
 * own lines only. Days are UTC days; "the last 30 days" are today and the 29 before it, the
 * same window as the chart, so the chart's bars add up to the 30-day gross.
 */
import type { Queryable } from '../db/client.js';
import { orderVendorSql } from './vendors.js';

export const SALES_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** Sums of one period, minor units, all positive as a vendor reads them. */
export interface SalesTotals {
  /** Paid orders counted. */
  orders: number;
  /** What customers paid. */
  gross: number;
  /** The vendor's share of it. */
  vendorShare: number;
  /** The store's fee. */
  fees: number;
  /** What refunds and chargebacks returned to customers. */
  refunds: number;
  /** The vendor's share those refunds took back. */
  refundedShare: number;
  /** vendorShare − refundedShare. */
  net: number;
}

export interface SalesSummary {
  currency: string;
  test: boolean;
  lastDays: SalesTotals;
  allTime: SalesTotals;
}

/** The first instant of the 30-day window ending at `now` (midnight UTC, 29 days before today). */
export function windowStart(now: Date): Date {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(today - (SALES_WINDOW_DAYS - 1) * DAY_MS);
}

const SUMS = (suffix: string, since: string) => `
  COUNT(DISTINCT order_id) FILTER (WHERE kind = 'payment'${since}) AS orders_${suffix},
  SUM(amount_minor) FILTER (WHERE kind = 'payment' AND account = 'processor_clearing'${since}) AS gross_${suffix},
  -SUM(amount_minor) FILTER (WHERE kind = 'payment' AND account = 'vendor_payable'${since}) AS share_${suffix},
  -SUM(amount_minor) FILTER (WHERE kind = 'payment' AND account = 'store_fees'${since}) AS fees_${suffix},
  -SUM(amount_minor) FILTER (WHERE kind <> 'payment' AND account = 'processor_clearing'${since}) AS refunds_${suffix},
  SUM(amount_minor) FILTER (WHERE kind <> 'payment' AND account = 'vendor_payable'${since}) AS refunded_share_${suffix}`;

type SumRow = Record<string, string | null>;

function totals(row: SumRow, suffix: string): SalesTotals {
  const value = (name: string) => Number(row[`${name}_${suffix}`] ?? 0);
  const vendorShare = value('share');
  const refundedShare = value('refunded_share');
  return {
    orders: value('orders'),
    gross: value('gross'),
    vendorShare,
    fees: value('fees'),
    refunds: value('refunds'),
    refundedShare,
    net: vendorShare - refundedShare,
  };
}

/** The vendor's sales per currency and mode (live first), up to `now`. */
export async function salesSummary(
  db: Queryable,
  vendorId: string,
  now: Date,
): Promise<SalesSummary[]> {
  const rows = await db.query<SumRow & { currency: string; test: boolean }>(
    `SELECT currency, test, ${SUMS('window', ' AND created_at >= $2')}, ${SUMS('all', '')}
       FROM ledger_lines
      WHERE vendor_id = $1 AND kind IN ('payment', 'refund', 'chargeback') AND created_at <= $3
      GROUP BY currency, test ORDER BY test, currency`,
    [vendorId, windowStart(now), now],
  );
  return rows.map((row) => ({
    currency: row.currency,
    test: row.test,
    lastDays: totals(row, 'window'),
    allTime: totals(row, 'all'),
  }));
}

export interface DaySales {
  /** YYYY-MM-DD (UTC). */
  day: string;
  gross: number;
  orders: number;
}

/** Gross sales per UTC day of the 30-day window, every day present (0 when none). */
export async function dailySales(
  db: Queryable,
  vendorId: string,
  series: { currency: string; test: boolean },
  now: Date,
): Promise<DaySales[]> {
  const start = windowStart(now);
  const rows = await db.query<{ day: string; gross: string; orders: string }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
            SUM(amount_minor) AS gross, COUNT(*) AS orders
       FROM ledger_lines
      WHERE vendor_id = $1 AND kind = 'payment' AND account = 'processor_clearing'
        AND currency = $2 AND test = $3 AND created_at >= $4 AND created_at <= $5
      GROUP BY 1`,
    [vendorId, series.currency, series.test, start, now],
  );
  const byDay = new Map(rows.map((row) => [row.day, row]));
  return Array.from({ length: SALES_WINDOW_DAYS }, (_, index) => {
    const day = new Date(start.getTime() + index * DAY_MS).toISOString().slice(0, 10);
    const row = byDay.get(day);
    return { day, gross: Number(row?.gross ?? 0), orders: Number(row?.orders ?? 0) };
  });
}

export interface VendorOrder {
  id: string;
  kind: string;
  status: string;
  productName: string;
  planName: string;
  seats: number;
  amount: number;
  currency: string;
  test: boolean;
  createdAt: Date;
  /** The order's invoice, once paid. */
  invoice: { id: string; number: string } | null;
}

/**
 * The vendor's newest orders: those booked to it in the ledger, and those not booked
 * (free, trials, unpaid) of the products it sells now. A product moved to another vendor
 * leaves its booked orders with the vendor they were booked to.
 */
export async function recentOrders(
  db: Queryable,
  vendorId: string,
  storeVendor: string,
  limit = 20,
): Promise<VendorOrder[]> {
  const rows = await db.query<{
    id: string;
    kind: string;
    status: string;
    product_name: string | null;
    product_id: string;
    plan_name: string | null;
    plan_id: string;
    seats: number;
    amount_minor: string;
    currency: string;
    test: boolean;
    created_at: Date;
    invoice_id: string | null;
    invoice_number: string | null;
  }>(
    `SELECT o.id, o.kind, o.status, p.name AS product_name, o.product_id, pl.name AS plan_name,
            o.plan_id, o.seats, o.amount_minor, o.currency, o.test, o.created_at,
            i.id AS invoice_id, i.number AS invoice_number
       FROM orders o
       LEFT JOIN products p ON p.id = o.product_id
       LEFT JOIN plans pl ON pl.product_id = o.product_id AND pl.id = o.plan_id
       LEFT JOIN invoices i ON i.order_id = o.id AND i.kind = 'invoice'
      WHERE ${orderVendorSql('$2')} = $1
      ORDER BY o.created_at DESC, o.id DESC LIMIT $3`,
    [vendorId, storeVendor, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    status: row.status,
    productName: row.product_name ?? row.product_id,
    planName: row.plan_name ?? row.plan_id,
    seats: row.seats,
    amount: Number(row.amount_minor),
    currency: row.currency,
    test: row.test,
    createdAt: row.created_at,
    invoice:
      row.invoice_id && row.invoice_number
        ? { id: row.invoice_id, number: row.invoice_number }
        : null,
  }));
}
