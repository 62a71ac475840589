import type { Queryable } from '../db/client.js';

export type LicenseStatus =
  | 'pending'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'cancelled'
  | 'expired'
  | 'revoked';

/** A plan change waiting for the end of the period (DESIGN.md "Store": plan changes). */
export interface PendingChangeRecord {
  kind: 'downgrade' | 'cancel' | 'seats';
  /** ISO time the change takes effect (the period end). */
  at: string;
  plan?: string;
  seats?: number;
}

export interface LicenseRecord {
  id: string;
  customerId: string;
  productId: string;
  planId: string;
  keyHint: string;
  status: LicenseStatus;
  seats: number;
  anchor: Date;
  periodStart: Date;
  periodEnd: Date | null;
  trialEnd: Date | null;
  pendingChange: PendingChangeRecord | null;
  /** seq of the latest token issued (-1 before the first). */
  seq: number;
  lastTokenHash: string | null;
  test: boolean;
  createdAt: Date;
  cancelledAt: Date | null;
  revokedAt: Date | null;
}

interface LicenseRow {
  id: string;
  customer_id: string;
  product_id: string;
  plan_id: string;
  key_hint: string;
  status: LicenseStatus;
  seats: number;
  anchor: Date;
  period_start: Date;
  period_end: Date | null;
  trial_end: Date | null;
  pending_change: PendingChangeRecord | null;
  seq: number;
  last_token_hash: string | null;
  test: boolean;
  created_at: Date;
  cancelled_at: Date | null;
  revoked_at: Date | null;
}

export const LICENSE_COLUMNS = `id, customer_id, product_id, plan_id, key_hint, status, seats, anchor, period_start,
  period_end, trial_end, pending_change, seq, last_token_hash, test, created_at, cancelled_at, revoked_at`;

export function toLicense(row: LicenseRow): LicenseRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    productId: row.product_id,
    planId: row.plan_id,
    keyHint: row.key_hint,
    status: row.status,
    seats: row.seats,
    anchor: row.anchor,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    trialEnd: row.trial_end,
    pendingChange: row.pending_change,
    seq: row.seq,
    lastTokenHash: row.last_token_hash,
    test: row.test,
    createdAt: row.created_at,
    cancelledAt: row.cancelled_at,
    revokedAt: row.revoked_at,
  };
}

/** License lookups shared by every part of the store; writes live with the services. */
export function licensesRepository(db: Queryable) {
  return {
    async byKeyHash(keyHash: string): Promise<LicenseRecord | undefined> {
      const [row] = await db.query<LicenseRow>(
        `SELECT ${LICENSE_COLUMNS} FROM licenses WHERE key_hash = $1`,
        [keyHash],
      );
      return row ? toLicense(row) : undefined;
    },
    async byId(
      id: string,
      options: { forUpdate?: boolean } = {},
    ): Promise<LicenseRecord | undefined> {
      const [row] = await db.query<LicenseRow>(
        `SELECT ${LICENSE_COLUMNS} FROM licenses WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
        [id],
      );
      return row ? toLicense(row) : undefined;
    },
  };
}
