import type { Queryable } from '../db/client.js';

export interface IdempotencyRecord {
  requestHash: string;
  statusCode: number | null;
  /** The saved response, encrypted (see lib/idempotency.ts). */
  response: Uint8Array | null;
}

/** Rows of idempotency_keys: (scope, keyed hash of the key) → request hash and response. */
export function idempotencyRepository(db: Queryable) {
  return {
    /**
     * Claims a key for a request. False when the key is already taken; in PostgreSQL the
     * insert first waits for a transaction still holding the same key, so a concurrent
     * duplicate sees the finished row.
     */
    async claim(scope: string, keyHash: string, requestHash: string, at: Date): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO idempotency_keys (scope, key_hash, request_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key_hash) DO NOTHING RETURNING key_hash`,
        [scope, keyHash, requestHash, at],
      );
      return rows.length > 0;
    },

    async get(scope: string, keyHash: string): Promise<IdempotencyRecord | undefined> {
      const [row] = await db.query<{
        request_hash: string;
        status_code: number | null;
        response: Uint8Array | null;
      }>(
        `SELECT request_hash, status_code, response FROM idempotency_keys
          WHERE scope = $1 AND key_hash = $2`,
        [scope, keyHash],
      );
      return row
        ? { requestHash: row.request_hash, statusCode: row.status_code, response: row.response }
        : undefined;
    },

    async saveResponse(
      scope: string,
      keyHash: string,
      statusCode: number,
      response: Uint8Array,
    ): Promise<void> {
      await db.query(
        `UPDATE idempotency_keys SET status_code = $3, response = $4
          WHERE scope = $1 AND key_hash = $2`,
        [scope, keyHash, statusCode, response],
      );
    },

    async prune(before: Date): Promise<number> {
      const rows = await db.query(
        'DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING 1',
        [before],
      );
      return rows.length;
    },
  };
}
