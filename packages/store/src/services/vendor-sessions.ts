import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import type { StoreContext } from './context.js';

/**
 * Sessions of the vendor dashboard, the admin screen's pattern (services/admin-sessions.ts)
 * scoped to one vendor: signing in with one of the vendor's tokens opens one — a random
 * 256-bit id in an HttpOnly, SameSite=Strict cookie, stored only as its keyed hash, with
 * the vendor and the token it was opened with. The token itself is never kept by the
 * session. Revoking the token ends its sessions: the lookup wants the token unrevoked. The
 * CSRF token of the session's forms is derived from the id under its own domain. Eight
 * hours from sign-in, no sliding.
 */

export const VENDOR_SESSION_TTL_MS = 8 * 3_600_000;
const ID_DOMAIN = 'vendor-session';
const CSRF_DOMAIN = 'vendor-session-csrf';
const ID_PATTERN = /^[\w-]{43}$/;

type SessionContext = Pick<StoreContext, 'db' | 'clock' | 'secrets'>;

export interface VendorSession {
  /** The id from the cookie (never stored). */
  id: string;
  vendorId: string;
  tokenId: string;
  csrfToken: string;
  expiresAt: Date;
}

function csrfOf(ctx: SessionContext, id: string): string {
  return ctx.secrets.keyedHash(CSRF_DOMAIN, id);
}

/** Opens a session (the caller has checked the token); also forgets expired sessions. */
export async function createVendorSession(
  ctx: SessionContext,
  signedIn: { vendorId: string; tokenId: string },
): Promise<VendorSession> {
  const now = ctx.clock.now();
  const id = base64urlEncode(randomBytes(32));
  const expiresAt = new Date(now.getTime() + VENDOR_SESSION_TTL_MS);
  await ctx.db.query('DELETE FROM vendor_sessions WHERE expires_at <= $1', [now]);
  await ctx.db.query(
    `INSERT INTO vendor_sessions (id_hash, vendor_id, token_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [ctx.secrets.keyedHash(ID_DOMAIN, id), signedIn.vendorId, signedIn.tokenId, now, expiresAt],
  );
  return { id, ...signedIn, csrfToken: csrfOf(ctx, id), expiresAt };
}

/** The session with this id, unless unknown, expired, or its token revoked. */
export async function findVendorSession(
  ctx: SessionContext,
  id: string,
): Promise<VendorSession | undefined> {
  if (!ID_PATTERN.test(id)) return undefined;
  const [row] = await ctx.db.query<{ vendor_id: string; token_id: string; expires_at: Date }>(
    `SELECT s.vendor_id, s.token_id, s.expires_at FROM vendor_sessions s
       JOIN vendor_tokens t ON t.id = s.token_id AND t.vendor_id = s.vendor_id
      WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL`,
    [ctx.secrets.keyedHash(ID_DOMAIN, id), ctx.clock.now()],
  );
  if (!row) return undefined;
  return {
    id,
    vendorId: row.vendor_id,
    tokenId: row.token_id,
    csrfToken: csrfOf(ctx, id),
    expiresAt: new Date(row.expires_at),
  };
}

/** Ends a session (sign out). */
export async function endVendorSession(ctx: SessionContext, id: string): Promise<void> {
  await ctx.db.query('DELETE FROM vendor_sessions WHERE id_hash = $1', [
    ctx.secrets.keyedHash(ID_DOMAIN, id),
  ]);
}
