import type { Queryable } from '../db/client.js';

export type OrderKind = 'purchase' | 'trial' | 'upgrade' | 'seats' | 'renewal';
export type OrderStatus = 'pending' | 'paid' | 'failed' | 'cancelled';

/**
 * What an order pays for beyond its plan and seats, so that paying it later (an admin, a
 * processor's webhook) applies exactly what was quoted: the period of a renewal, the
 * plan and period of an upgrade, the seat count of a seat change.
 */
export interface OrderDetails {
  /** Renewals and upgrades that start a new period: [periodStart, periodEnd), ISO. */
  periodStart?: string;
  periodEnd?: string | null;
  anchor?: string;
  /** Plan changes: the terms the order moves from (a stale order applies nothing). */
  fromPlan?: string;
  fromSeats?: number;
  /**
   * Upgrades and seat orders: the end (ISO) of the license's period when the order was
   * placed. The charge is prorated for what was left of that period, so the order is for
   * that period only: the billing cycle cancels it, still pending, when the period ends
   * (services/billing.ts), and paid for another period it applies nothing
   * (services/plan-changes.ts applyPlanOrder). Absent on orders placed before it existed.
   */
  quotedFor?: string;
  /** Renewals: 'renewal' or 'trial_end'. */
  reason?: string;
  /** An order the customer pays in the portal after this failed one (services/owed-payment.ts). */
  retryOf?: string;
  /**
   * Paid by the customer on the processor's payment page, never charged off-session: the
   * billing job leaves it alone (one order, one way to pay it).
   */
  paymentPage?: boolean;
  /**
   * Upgrades and seat orders: the customer scheduled a change or cancelled while it waited
   * for its payment; paid, it keeps that change (services/plan-changes.ts applyPlanOrder).
   */
  changeScheduledAfter?: boolean;
}

export interface OrderRecord {
  id: string;
  customerId: string;
  productId: string;
  planId: string;
  licenseId: string | null;
  kind: OrderKind;
  seats: number;
  amount: number;
  currency: string;
  provider: string;
  providerRef: string | null;
  status: OrderStatus;
  test: boolean;
  details: OrderDetails;
  createdAt: Date;
  paidAt: Date | null;
}

interface OrderRow {
  id: string;
  customer_id: string;
  product_id: string;
  plan_id: string;
  license_id: string | null;
  kind: OrderKind;
  seats: number;
  amount_minor: number;
  currency: string;
  provider: string;
  provider_ref: string | null;
  status: OrderStatus;
  test: boolean;
  details: OrderDetails;
  created_at: Date;
  paid_at: Date | null;
}

const ORDER_COLUMNS = `id, customer_id, product_id, plan_id, license_id, kind, seats, amount_minor, currency,
  provider, provider_ref, status, test, details, created_at, paid_at`;

function toOrder(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    productId: row.product_id,
    planId: row.plan_id,
    licenseId: row.license_id,
    kind: row.kind,
    seats: row.seats,
    amount: Number(row.amount_minor),
    currency: row.currency,
    provider: row.provider,
    providerRef: row.provider_ref,
    status: row.status,
    test: row.test,
    details: row.details,
    createdAt: row.created_at,
    paidAt: row.paid_at,
  };
}

export type NewOrder = Omit<OrderRecord, 'paidAt' | 'providerRef' | 'status'>;

export function ordersRepository(db: Queryable) {
  const lock = (forUpdate: boolean | undefined) => (forUpdate ? ' FOR UPDATE' : '');
  return {
    async insert(order: NewOrder): Promise<OrderRecord> {
      const [row] = await db.query<OrderRow>(
        `INSERT INTO orders (id, customer_id, product_id, plan_id, license_id, kind, seats, amount_minor,
            currency, provider, status, test, details, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12, $13)
         RETURNING ${ORDER_COLUMNS}`,
        [
          order.id,
          order.customerId,
          order.productId,
          order.planId,
          order.licenseId,
          order.kind,
          order.seats,
          order.amount,
          order.currency,
          order.provider,
          order.test,
          JSON.stringify(order.details),
          order.createdAt,
        ],
      );
      return toOrder(row!);
    },

    async byId(id: string, options: { forUpdate?: boolean } = {}) {
      const [row] = await db.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1${lock(options.forUpdate)}`,
        [id],
      );
      return row ? toOrder(row) : undefined;
    },

    async byProviderRef(provider: string, ref: string, options: { forUpdate?: boolean } = {}) {
      const [row] = await db.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE provider = $1 AND provider_ref = $2${lock(options.forUpdate)}`,
        [provider, ref],
      );
      return row ? toOrder(row) : undefined;
    },

    /** Records the outcome of a charge: the processor's reference and the new status. */
    async settle(
      id: string,
      outcome: { status: OrderStatus; providerRef?: string | undefined; at: Date },
    ): Promise<OrderRecord> {
      const [row] = await db.query<OrderRow>(
        `UPDATE orders SET status = $2, provider_ref = COALESCE($3, provider_ref),
            paid_at = CASE WHEN $2 = 'paid' THEN $4::timestamptz ELSE paid_at END
          WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
        [id, outcome.status, outcome.providerRef ?? null, outcome.at],
      );
      return toOrder(row!);
    },

    /** Whether the customer has ever had a trial of the product. */
    async hasTrial(customerId: string, productId: string): Promise<boolean> {
      const rows = await db.query(
        `SELECT 1 FROM orders WHERE customer_id = $1 AND product_id = $2 AND kind = 'trial' LIMIT 1`,
        [customerId, productId],
      );
      return rows.length > 0;
    },

    /** The provider a license was bought through: its renewals and upgrades charge there. */
    async providerOfLicense(licenseId: string): Promise<string | undefined> {
      const [row] = await db.query<{ provider: string }>(
        'SELECT provider FROM orders WHERE license_id = $1 ORDER BY created_at, id LIMIT 1',
        [licenseId],
      );
      return row?.provider;
    },

    /**
     * The license's most recent order of `kind`, whatever its status: the newest that no
     * other order of that kind retries (a retry may share its instant with the order it
     * retries).
     */
    async latestOfKind(
      licenseId: string,
      kind: 'purchase' | 'renewal',
    ): Promise<OrderRecord | undefined> {
      const [row] = await db.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM orders o WHERE license_id = $1 AND kind = $2
           AND NOT EXISTS (SELECT 1 FROM orders r WHERE r.license_id = o.license_id
             AND r.kind = $2 AND r.details->>'retryOf' = o.id)
          ORDER BY created_at DESC, id DESC LIMIT 1`,
        [licenseId, kind],
      );
      return row && toOrder(row);
    },

    async pendingOfLicense(licenseId: string): Promise<OrderRecord[]> {
      const rows = await db.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE license_id = $1 AND status = 'pending'
          ORDER BY created_at, id`,
        [licenseId],
      );
      return rows.map(toOrder);
    },

    async ofLicense(licenseId: string): Promise<OrderRecord[]> {
      const rows = await db.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE license_id = $1 ORDER BY created_at, id`,
        [licenseId],
      );
      return rows.map(toOrder);
    },
  };
}
