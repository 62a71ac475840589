/**
 * Payout runs. A run takes, per vendor, currency and mode (live or test), every
 * vendor_payable line whose hold has passed and that no payout holds yet, and when they
 * add up to money owed to the vendor, gathers them into one pending payout with its
 * statement. Confirming a payout (the money was sent) books it in the ledger.
 *
 * - Idempotent: a second run at the same instant finds no free line and makes nothing.
 * - Runs are serialised by an advisory lock, so two at once never take a line twice.
 * - A payout takes exactly the lines its amount was summed from: a line booked while the
 *   run is under way (a refund) waits for the next run.
 * - A refund after a payout is a line payable at once: it lowers the next payout, and
 *   when it outweighs what is due, nothing is paid and the negative balance carries
 *   forward (its lines stay free for the next run).
 */
import { payoutLines } from '@licensekit/core';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { newId } from '../lib/ids.js';
import { insertLines } from './ledger.js';

// An arbitrary constant, apart from the migration lock (424242).
const PAYOUT_RUN_LOCK = 424_243;

export interface Payout {
  id: string;
  vendorId: string;
  currency: string;
  amount: number;
  test: boolean;
  status: 'pending' | 'paid';
  cutoff: Date;
  reference: string;
  createdAt: Date;
  paidAt: Date | null;
}

interface PayoutRow {
  id: string;
  vendor_id: string;
  currency: string;
  amount_minor: string;
  test: boolean;
  status: 'pending' | 'paid';
  cutoff: Date;
  reference: string;
  created_at: Date;
  paid_at: Date | null;
}

const COLUMNS =
  'id, vendor_id, currency, amount_minor, test, status, cutoff, reference, created_at, paid_at';

function toPayout(row: PayoutRow): Payout {
  return {
    id: row.id,
    vendorId: row.vendor_id,
    currency: row.currency,
    amount: Number(row.amount_minor),
    test: row.test,
    status: row.status,
    cutoff: row.cutoff,
    reference: row.reference,
    createdAt: row.created_at,
    paidAt: row.paid_at,
  };
}

export interface PayoutRun {
  cutoff: Date;
  payouts: Payout[];
  /** Vendors whose due lines add up to nothing owed (a refund outweighs): carried forward. */
  carried: { vendorId: string; currency: string; test: boolean; balance: number }[];
}

/** Gathers every due balance into pending payouts (see the module comment). */
export async function runPayouts(
  db: Db,
  options: { now: Date; vendorId?: string | undefined },
): Promise<PayoutRun> {
  const cutoff = options.now;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PAYOUT_RUN_LOCK]);
    // The sum and the lines it is made of come from this one statement: a line committed
    // after it (a refund booked meanwhile, payable at once) is left for the next run. An
    // UPDATE re-selecting "every due line" would see that line too and mark it taken
    // without its amount in the payout: the vendor would be paid the refund's share.
    const groups = await tx.query<{
      vendor_id: string;
      currency: string;
      test: boolean;
      due: string;
      line_ids: string[];
    }>(
      `SELECT vendor_id, currency, test, -SUM(amount_minor) AS due, array_agg(id) AS line_ids
         FROM ledger_lines
        WHERE account = 'vendor_payable' AND payout_id IS NULL AND kind <> 'payout'
          AND payable_at <= $1 AND ($2::text IS NULL OR vendor_id = $2)
        GROUP BY vendor_id, currency, test ORDER BY vendor_id, currency, test`,
      [cutoff, options.vendorId ?? null],
    );
    const run: PayoutRun = { cutoff, payouts: [], carried: [] };
    for (const group of groups) {
      const due = Number(group.due);
      if (due <= 0) {
        if (due < 0) {
          run.carried.push({
            vendorId: group.vendor_id,
            currency: group.currency,
            test: group.test,
            balance: due,
          });
        }
        continue;
      }
      const id = newId('po');
      const [row] = await tx.query<PayoutRow>(
        `INSERT INTO payouts (id, vendor_id, currency, amount_minor, test, status, cutoff, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) RETURNING ${COLUMNS}`,
        [id, group.vendor_id, group.currency, due, group.test, cutoff],
      );
      await tx.query('UPDATE ledger_lines SET payout_id = $1 WHERE id = ANY($2::bigint[])', [
        id,
        group.line_ids,
      ]);
      run.payouts.push(toPayout(row!));
    }
    return run;
  });
}

/**
 * Marks a pending payout paid (the money was sent; `reference` is the bank's or the
 * processor's) and books it. Confirming a paid payout again returns it unchanged.
 * @throws StoreError PAYOUT_NOT_FOUND
 */
export async function confirmPayout(
  db: Db,
  id: string,
  input: { reference: string; now: Date },
): Promise<Payout> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<PayoutRow>(
      `SELECT ${COLUMNS} FROM payouts WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!row) throw new StoreError('PAYOUT_NOT_FOUND');
    if (row.status === 'paid') return toPayout(row);
    const [paid] = await tx.query<PayoutRow>(
      `UPDATE payouts SET status = 'paid', paid_at = $2, reference = $3 WHERE id = $1
       RETURNING ${COLUMNS}`,
      [id, input.now, input.reference],
    );
    const payout = toPayout(paid!);
    await insertLines(tx, payoutLines(payout.amount), {
      entryId: newId('led'),
      kind: 'payout',
      vendorId: payout.vendorId,
      orderId: null,
      payoutId: payout.id,
      currency: payout.currency,
      shareBps: null,
      test: payout.test,
      payableAt: input.now,
      at: input.now,
    });
    return payout;
  });
}

export async function payoutById(db: Queryable, id: string): Promise<Payout | undefined> {
  const [row] = await db.query<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE id = $1`, [id]);
  return row ? toPayout(row) : undefined;
}

export async function listPayouts(
  db: Queryable,
  filter: { vendorId?: string | undefined; limit?: number | undefined },
): Promise<Payout[]> {
  const rows = await db.query<PayoutRow>(
    `SELECT ${COLUMNS} FROM payouts WHERE ($1::text IS NULL OR vendor_id = $1)
      ORDER BY created_at DESC, id LIMIT $2`,
    [filter.vendorId ?? null, filter.limit ?? 100],
  );
  return rows.map(toPayout);
}

export interface StatementLine {
  orderId: string | null;
  kind: string;
  /** The vendor's share moved by this line (positive: earned; negative: returned). */
  amount: number;
  bookedAt: Date;
  invoiceNumber: string | null;
}

/** The lines a payout gathered, oldest first, with the invoice or credit note of each. */
export async function payoutStatement(db: Queryable, id: string): Promise<StatementLine[]> {
  const rows = await db.query<{
    order_id: string | null;
    kind: string;
    amount_minor: string;
    created_at: Date;
    number: string | null;
  }>(
    `SELECT l.order_id, l.kind, l.amount_minor, l.created_at,
            (SELECT i.number FROM invoices i WHERE i.order_id = l.order_id
                AND i.kind = CASE WHEN l.kind = 'payment' THEN 'invoice' ELSE 'credit_note' END
              ORDER BY i.seq LIMIT 1) AS number
       FROM ledger_lines l
      WHERE l.payout_id = $1 AND l.account = 'vendor_payable' AND l.kind <> 'payout'
      ORDER BY l.created_at, l.id`,
    [id],
  );
  return rows.map((row) => ({
    orderId: row.order_id,
    kind: row.kind,
    amount: -Number(row.amount_minor),
    bookedAt: row.created_at,
    invoiceNumber: row.number,
  }));
}

/** RFC 4180 CSV of a statement (amounts in minor units, times ISO 8601). */
export function statementCsv(payout: Payout, lines: readonly StatementLine[]): string {
  const quote = (value: string) =>
    /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
  const rows = [
    ['payout', 'vendor', 'currency', 'order', 'kind', 'amount_minor', 'booked_at', 'document'],
    ...lines.map((line) => [
      payout.id,
      payout.vendorId,
      payout.currency,
      line.orderId ?? '',
      line.kind,
      String(line.amount),
      line.bookedAt.toISOString(),
      line.invoiceNumber ?? '',
    ]),
  ];
  return `${rows.map((row) => row.map(quote).join(',')).join('\r\n')}\r\n`;
}

export interface VendorBalance {
  vendorId: string;
  currency: string;
  test: boolean;
  /** Due now (hold passed, in no payout yet); may be negative (carried forward). */
  available: number;
  /** Still on hold. */
  onHold: number;
  /** In payouts not yet confirmed. */
  inPayouts: number;
  /** Paid out so far. */
  paidOut: number;
  /** When the earliest held line becomes payable. */
  nextPayableAt: Date | null;
}

/** A vendor's balances per currency and mode at `now`. */
export async function vendorBalances(
  db: Queryable,
  vendorId: string,
  now: Date,
): Promise<VendorBalance[]> {
  const rows = await db.query<{
    currency: string;
    test: boolean;
    available: string | null;
    on_hold: string | null;
    in_payouts: string | null;
    paid_out: string | null;
    next_payable_at: Date | null;
  }>(
    `SELECT l.currency, l.test,
            -SUM(l.amount_minor) FILTER (WHERE l.payout_id IS NULL AND l.payable_at <= $2) AS available,
            -SUM(l.amount_minor) FILTER (WHERE l.payout_id IS NULL AND l.payable_at > $2) AS on_hold,
            -SUM(l.amount_minor) FILTER (WHERE p.status = 'pending') AS in_payouts,
            -SUM(l.amount_minor) FILTER (WHERE p.status = 'paid') AS paid_out,
            MIN(l.payable_at) FILTER (WHERE l.payout_id IS NULL AND l.payable_at > $2) AS next_payable_at
       FROM ledger_lines l LEFT JOIN payouts p ON p.id = l.payout_id
      WHERE l.vendor_id = $1 AND l.account = 'vendor_payable' AND l.kind <> 'payout'
      GROUP BY l.currency, l.test ORDER BY l.test, l.currency`,
    [vendorId, now],
  );
  return rows.map((row) => ({
    vendorId,
    currency: row.currency,
    test: row.test,
    available: Number(row.available ?? 0),
    onHold: Number(row.on_hold ?? 0),
    inPayouts: Number(row.in_payouts ?? 0),
    paidOut: Number(row.paid_out ?? 0),
    nextPayableAt: row.next_payable_at,
  }));
}
