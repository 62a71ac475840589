/**
 * A vendor's admin API tokens (issue 10, "Vendors as tenants"). A token is `lkv_` + 256
 * random bits, shown once at creation; the store keeps only its keyed hash (HMAC under the
 * store secret, as for license keys), so neither the database nor a backup of it can be
 * replayed as a credential. The `lkv_` prefix keeps a vendor token apart from the operator's
 * `lka_` token, in logs, secret scanners and in requireAdmin.
 */
import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { Secrets } from '../lib/secrets.js';

export const VENDOR_TOKEN_PREFIX = 'lkv_';
const HASH_DOMAIN = 'vendor-admin-token';
// 32 bytes in base64url: 43 characters after the prefix. Anything else is not a token, and
// is refused before any hashing or query.
const TOKEN_PATTERN = /^lkv_[A-Za-z0-9_-]{43}$/;
const MAX_LABEL = 200;

/** What the functions need besides the database: a running store or its context has both. */
export interface VendorTokenKeys {
  secrets: Secrets;
  clock: Clock;
}

export interface VendorTokenInfo {
  id: string;
  vendorId: string;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

interface TokenRow {
  id: string;
  vendor_id: string;
  label: string;
  created_at: Date;
  revoked_at: Date | null;
}

function toInfo(row: TokenRow): VendorTokenInfo {
  return {
    id: row.id,
    vendorId: row.vendor_id,
    label: row.label,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** True when the bearer has the shape of a vendor token (never an operator token). */
export function isVendorToken(token: string): boolean {
  return token.startsWith(VENDOR_TOKEN_PREFIX);
}

function tokenHash(keys: VendorTokenKeys, token: string): string {
  return keys.secrets.keyedHash(HASH_DOMAIN, token);
}

/**
 * Creates a token for a vendor. The token itself is in the answer only: keep it.
 * @throws StoreError VENDOR_NOT_FOUND, BAD_REQUEST (label too long)
 */
export async function createVendorToken(
  db: Queryable,
  keys: VendorTokenKeys,
  vendorId: string,
  label = '',
): Promise<{ id: string; token: string }> {
  if (label.length > MAX_LABEL) {
    throw new StoreError('BAD_REQUEST', `A token label has at most ${MAX_LABEL} characters.`);
  }
  const token = `${VENDOR_TOKEN_PREFIX}${base64urlEncode(randomBytes(32))}`;
  const id = newId('vtk');
  const rows = await db.query<{ id: string }>(
    `INSERT INTO vendor_tokens (id, vendor_id, label, token_hash, created_at)
     SELECT $1, id, $3, $4, $5 FROM vendors WHERE id = $2 RETURNING id`,
    [id, vendorId, label, tokenHash(keys, token), keys.clock.now()],
  );
  if (rows.length === 0) throw new StoreError('VENDOR_NOT_FOUND');
  return { id, token };
}

/**
 * The vendor and token a bearer names, or undefined (unknown, revoked, not a vendor token).
 * The lookup is by keyed hash: how long it takes depends on the HMAC of the token, which
 * a caller cannot steer without the store secret, so it tells nothing about stored tokens.
 */
export async function authenticateVendorToken(
  db: Queryable,
  keys: VendorTokenKeys,
  token: string,
): Promise<{ vendorId: string; tokenId: string } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const [row] = await db.query<{ id: string; vendor_id: string }>(
    `SELECT id, vendor_id FROM vendor_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [tokenHash(keys, token)],
  );
  return row ? { vendorId: row.vendor_id, tokenId: row.id } : undefined;
}

/**
 * Revokes one of a vendor's tokens; the next request with it answers 401. Revoking twice
 * keeps the first time. Undefined when the vendor has no token with this id.
 */
export async function revokeVendorToken(
  db: Queryable,
  keys: VendorTokenKeys,
  vendorId: string,
  tokenId: string,
): Promise<VendorTokenInfo | undefined> {
  const [row] = await db.query<TokenRow>(
    `UPDATE vendor_tokens SET revoked_at = COALESCE(revoked_at, $3)
      WHERE id = $1 AND vendor_id = $2
      RETURNING id, vendor_id, label, created_at, revoked_at`,
    [tokenId, vendorId, keys.clock.now()],
  );
  return row ? toInfo(row) : undefined;
}

/** A vendor's tokens, revoked ones too (never the token or its hash). */
export async function listVendorTokens(
  db: Queryable,
  vendorId: string,
): Promise<VendorTokenInfo[]> {
  const rows = await db.query<TokenRow>(
    `SELECT id, vendor_id, label, created_at, revoked_at FROM vendor_tokens
      WHERE vendor_id = $1 ORDER BY created_at, id`,
    [vendorId],
  );
  return rows.map(toInfo);
}
