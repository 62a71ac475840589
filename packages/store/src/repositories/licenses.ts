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
  /** The last change of the license's terms (plan, seats, period, status, pending change). */
  updatedAt: Date;
  cancelledAt: Date | null;
  revokedAt: Date | null;
  /**
   * The row's version when it was read for issuing a token (PostgreSQL's xmin: every write
   * of the row gives it a new one, whoever makes it): an optimistic issue writes its token
   * only if the row still has it. Absent on reads that do not ask for it.
   */
  version?: string;
  /** The version (xmin) of the license's plan row, read with it: the plan cache's check. */
  planVersion?: string;
  /**
   * The vendor of the license's product, read with it for issuing (products.vendor_id; null
   * = the store's own vendor): `iss` of the token, current as of this very read.
   */
  productVendor?: string | null;
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
  updated_at: Date;
  cancelled_at: Date | null;
  revoked_at: Date | null;
  row_version?: string | null;
  plan_version?: string | null;
  product_vendor?: string | null;
}

export const LICENSE_COLUMNS = `id, customer_id, product_id, plan_id, key_hint, status, seats, anchor, period_start,
  period_end, trial_end, pending_change, seq, last_token_hash, test, created_at, updated_at, cancelled_at, revoked_at`;

export function toLicense(row: LicenseRow): LicenseRecord {
  const license: LicenseRecord = {
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
    updatedAt: row.updated_at,
    cancelledAt: row.cancelled_at,
    revokedAt: row.revoked_at,
  };
  if (typeof row.row_version === 'string') license.version = row.row_version;
  if (typeof row.plan_version === 'string') license.planVersion = row.plan_version;
  if (row.product_vendor !== undefined) license.productVendor = row.product_vendor;
  return license;
}

/**
 * LICENSE_COLUMNS plus what an optimistic issue needs: the row's xmin, its plan's (the
 * plan cache's check) and its product's vendor (the token's `iss`) — subqueries, not
 * joins, so the license's column names stay unambiguous, and no statement of their own.
 */
const ISSUE_COLUMNS = `${LICENSE_COLUMNS}, xmin::text AS row_version,
  (SELECT p.xmin::text FROM plans p WHERE p.product_id = licenses.product_id AND p.id = licenses.plan_id)
    AS plan_version,
  (SELECT pr.vendor_id FROM products pr WHERE pr.id = licenses.product_id) AS product_vendor`;

/**
 * The license-key lookup ($1 the key's keyed hash, $2 the client): the license with its
 * versions, and the client's failed lookups. Exported for the raw-database side of
 * `pnpm bench store`, which sends exactly this statement.
 */
export const KEY_LOOKUP_SQL = `SELECT found.*, (SELECT failures FROM key_guesses WHERE client = $2) AS guesses
  FROM (SELECT 1) AS one
  LEFT JOIN (SELECT ${ISSUE_COLUMNS} FROM licenses WHERE key_hash = $1) AS found ON true`;

/** A new license row (checkout). */
export interface NewLicense {
  id: string;
  customerId: string;
  productId: string;
  planId: string;
  keyHash: string;
  keyHint: string;
  status: LicenseStatus;
  seats: number;
  anchor: Date;
  periodStart: Date;
  periodEnd: Date | null;
  trialEnd: Date | null;
  test: boolean;
  createdAt: Date;
}

/** Columns the licensing services change; `updatedAt` is set by every change of terms. */
export interface LicensePatch {
  planId?: string;
  status?: LicenseStatus;
  seats?: number;
  anchor?: Date;
  periodStart?: Date;
  periodEnd?: Date | null;
  trialEnd?: Date | null;
  pendingChange?: PendingChangeRecord | null;
  cancelledAt?: Date | null;
}

const PATCH_COLUMNS: Record<keyof LicensePatch, string> = {
  planId: 'plan_id',
  status: 'status',
  seats: 'seats',
  anchor: 'anchor',
  periodStart: 'period_start',
  periodEnd: 'period_end',
  trialEnd: 'trial_end',
  pendingChange: 'pending_change',
  cancelledAt: 'cancelled_at',
};

/** License lookups shared by every part of the store, and the writes of the licensing part. */
export function licensesRepository(db: Queryable) {
  return {
    async insert(license: NewLicense): Promise<void> {
      await db.query(
        `INSERT INTO licenses (id, customer_id, product_id, plan_id, key_hash, key_hint, status, seats,
            anchor, period_start, period_end, trial_end, test, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
        [
          license.id,
          license.customerId,
          license.productId,
          license.planId,
          license.keyHash,
          license.keyHint,
          license.status,
          license.seats,
          license.anchor,
          license.periodStart,
          license.periodEnd,
          license.trialEnd,
          license.test,
          license.createdAt,
        ],
      );
    },

    /** Applies a change of terms and returns the license as it now is. */
    async update(id: string, patch: LicensePatch, at: Date): Promise<LicenseRecord> {
      const sets: string[] = [];
      const values: unknown[] = [id, at];
      for (const [field, column] of Object.entries(PATCH_COLUMNS) as [
        keyof LicensePatch,
        string,
      ][]) {
        if (!(field in patch)) continue;
        const value = patch[field];
        values.push(field === 'pendingChange' && value !== null ? JSON.stringify(value) : value);
        sets.push(`${column} = $${values.length}`);
      }
      const [row] = await db.query<LicenseRow>(
        `UPDATE licenses SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE id = $1
         RETURNING ${LICENSE_COLUMNS}`,
        values,
      );
      if (!row) throw new Error(`license ${id} vanished during an update`);
      return toLicense(row);
    },

    /** Licenses whose period (or trial) has ended by `now` and that the billing cycle owes a step. */
    async dueForBilling(now: Date, limit: number): Promise<string[]> {
      const rows = await db.query<{ id: string }>(
        `SELECT id FROM licenses WHERE status IN ('active', 'trialing') AND period_end <= $1
          ORDER BY period_end LIMIT $2`,
        [now, limit],
      );
      return rows.map((row) => row.id);
    },

    /**
     * Gives the license a new key (its keyed hash and hint): the old key stops finding it.
     * Not a change of terms (updated_at stays): tokens already issued remain current.
     */
    async replaceKey(id: string, keyHash: string, keyHint: string): Promise<LicenseRecord> {
      const [row] = await db.query<LicenseRow>(
        `UPDATE licenses SET key_hash = $2, key_hint = $3 WHERE id = $1 RETURNING ${LICENSE_COLUMNS}`,
        [id, keyHash, keyHint],
      );
      if (!row) throw new Error(`license ${id} vanished during a key replacement`);
      return toLicense(row);
    },

    async byKeyHash(keyHash: string): Promise<LicenseRecord | undefined> {
      const [row] = await db.query<LicenseRow>(
        `SELECT ${LICENSE_COLUMNS} FROM licenses WHERE key_hash = $1`,
        [keyHash],
      );
      return row ? toLicense(row) : undefined;
    },
    /**
     * {@link byKeyHash} together with the client's failed-lookup log (key_guesses), in one
     * statement: the limiter learns whether another instance has blocked the client
     * without a second round trip on the hot path (refresh). Always one row: the license
     * columns are null when no license has this key hash. The license comes with its
     * version and its plan's, so that a refresh needs no further read before it signs.
     */
    async byKeyHashWithGuesses(keyHash: string, client: string): Promise<LicenseWithGuesses> {
      const [row] = await db.query<LicenseRow & { guesses: Date[] | null }>(KEY_LOOKUP_SQL, [
        keyHash,
        client,
      ]);
      return {
        license: row && row.id !== null ? toLicense(row) : undefined,
        guesses: row?.guesses ?? [],
      };
    },
    /**
     * What a refresh by token needs, in one statement: the token's license (with its
     * version and its plan's), the device the token is bound to, if any, and whether the
     * token itself is revoked.
     */
    async byTokenHash(hash: string): Promise<LicenseOfToken | undefined> {
      const [row] = await db.query<
        LicenseRow & {
          token_device_id: string | null;
          device_thumbprint: string | null;
          device_deactivated_at: Date | null;
          token_revoked: boolean;
        }
      >(
        `SELECT lic.*, t.device_id AS token_device_id, d.thumbprint AS device_thumbprint,
                d.deactivated_at AS device_deactivated_at,
                EXISTS (SELECT 1 FROM revocations r WHERE r.kind = 'token' AND r.value = t.jti)
                  AS token_revoked
           FROM tokens t
           JOIN LATERAL (SELECT ${ISSUE_COLUMNS} FROM licenses WHERE id = t.license_id) AS lic ON true
           LEFT JOIN devices d ON d.id = t.device_id AND d.license_id = t.license_id
          WHERE t.hash = $1`,
        [hash],
      );
      if (!row) return undefined;
      return {
        license: toLicense(row),
        tokenRevoked: row.token_revoked === true,
        device:
          row.token_device_id === null
            ? null
            : {
                id: row.token_device_id,
                thumbprint: row.device_thumbprint,
                active: row.device_thumbprint !== null && row.device_deactivated_at === null,
              },
      };
    },

    /** The license with its version and its plan's (a re-read before an optimistic issue). */
    async forIssue(id: string): Promise<LicenseRecord | undefined> {
      const [row] = await db.query<LicenseRow>(
        `SELECT ${ISSUE_COLUMNS} FROM licenses WHERE id = $1`,
        [id],
      );
      return row ? toLicense(row) : undefined;
    },

    /**
     * Locks the license (until the transaction ends) and gives its row a new version, so
     * that an optimistic issue that read it before retries: for changes that decide what
     * may be issued without changing the row itself (a device deactivated).
     */
    async lockAndBump(id: string): Promise<LicenseRecord | undefined> {
      const [row] = await db.query<LicenseRow>(
        `UPDATE licenses SET seq = seq WHERE id = $1 RETURNING ${LICENSE_COLUMNS}`,
        [id],
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

/** A token's license, and the device the token is bound to (null: unbound). */
export interface LicenseOfToken {
  license: LicenseRecord;
  /** The token's jti is listed in the revocations (a leaked token, revoked on its own). */
  tokenRevoked: boolean;
  device: { id: string; thumbprint: string | null; active: boolean } | null;
}

/** A license looked up by key hash, and the failed lookups of the client that asked. */
export interface LicenseWithGuesses {
  license: LicenseRecord | undefined;
  /** The client's recorded failures (see keyGuessesRepository), oldest first. */
  guesses: Date[];
}

/**
 * The failed license-key lookups of each client (table key_guesses, migration 0004): the
 * shared memory of the failure limiter, so that its limit holds across instances and
 * restarts. A sliding log per client: the times of its newest failures within the window.
 */
export function keyGuessesRepository(db: Queryable) {
  return {
    /**
     * Records a failure of `client` at `at` and answers the client's failures within the
     * window that ends at `at`: oldest first, only the newest `keep` of them (older ones
     * can no longer decide anything). One statement, atomic across instances: concurrent
     * failures of one client serialise on its row.
     */
    async record(client: string, at: Date, windowMs: number, keep: number): Promise<Date[]> {
      const [row] = await db.query<{ failures: Date[] }>(
        `INSERT INTO key_guesses AS g (client, failures, expires_at)
         VALUES ($1, ARRAY[$2::timestamptz], $2::timestamptz + $3::interval)
         ON CONFLICT (client) DO UPDATE SET
           failures = ARRAY(
             SELECT t FROM (
               SELECT t FROM unnest(g.failures || $2::timestamptz) AS t
                WHERE t > $2::timestamptz - $3::interval
                ORDER BY t DESC LIMIT $4
             ) AS newest ORDER BY t),
           expires_at = GREATEST(g.expires_at, EXCLUDED.expires_at)
         RETURNING failures`,
        [client, at, `${windowMs} milliseconds`, keep],
      );
      return row?.failures ?? [];
    },

    /** Deletes the clients whose failures have all left the window by `now`. */
    async purge(now: Date): Promise<void> {
      await db.query('DELETE FROM key_guesses WHERE expires_at <= $1', [now]);
    },
  };
}
