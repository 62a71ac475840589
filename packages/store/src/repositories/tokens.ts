import type { TokenFormat } from '@licensekit/core';
import type { Queryable } from '../db/client.js';

/** A token the store issued: the issuance record of every lineage. */
export interface TokenRecord {
  jti: string;
  licenseId: string;
  seq: number;
  deviceId: string | null;
  hash: string;
  prev: string | null;
  format: TokenFormat;
  token: string;
  issuedAt: Date;
  expiresAt: Date | null;
}

interface TokenRow {
  jti: string;
  license_id: string;
  seq: number;
  device_id: string | null;
  hash: string;
  prev: string | null;
  format: TokenFormat;
  token: string;
  issued_at: Date;
  expires_at: Date | null;
}

const TOKEN_COLUMNS =
  'jti, license_id, seq, device_id, hash, prev, format, token, issued_at, expires_at';

function toToken(row: TokenRow): TokenRecord {
  return {
    jti: row.jti,
    licenseId: row.license_id,
    seq: row.seq,
    deviceId: row.device_id,
    hash: row.hash,
    prev: row.prev,
    format: row.format,
    token: row.token,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
  };
}

export function tokensRepository(db: Queryable) {
  return {
    async insert(token: TokenRecord): Promise<void> {
      await db.query(
        `INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          token.jti,
          token.licenseId,
          token.seq,
          token.deviceId,
          token.hash,
          token.prev,
          token.format,
          token.token,
          token.issuedAt,
          token.expiresAt,
        ],
      );
    },

    async byHash(hash: string): Promise<TokenRecord | undefined> {
      const [row] = await db.query<TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1`,
        [hash],
      );
      return row ? toToken(row) : undefined;
    },

    /** The newest token of the license that is bound to no device. */
    async latestUnbound(licenseId: string): Promise<TokenRecord | undefined> {
      const [row] = await db.query<TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE license_id = $1 AND device_id IS NULL
          ORDER BY seq DESC LIMIT 1`,
        [licenseId],
      );
      return row ? toToken(row) : undefined;
    },
  };
}
