import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import type { StoreContext } from './context.js';

/**
 * Customer portal sessions. Signing in with the license key (or buying) opens one: a
 * random 256-bit id, sent to the browser in an HttpOnly, SameSite=Strict cookie and stored
 * only as its keyed hash, with the license it opens and a CSRF token for the portal's
 * forms. Sessions last one hour from sign-in (no sliding renewal: the key is the only
 * credential and re-entering it hourly is the price of not keeping long-lived sessions).
 */

export const PORTAL_SESSION_TTL_MS = 3_600_000;
const DOMAIN = 'portal-session';

export interface PortalSession {
  licenseId: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Opens a session for a license; also forgets every expired session. */
export async function createPortalSession(
  ctx: StoreContext,
  licenseId: string,
): Promise<{ id: string; session: PortalSession }> {
  const now = ctx.clock.now();
  const id = base64urlEncode(randomBytes(32));
  const session: PortalSession = {
    licenseId,
    csrfToken: base64urlEncode(randomBytes(32)),
    expiresAt: new Date(now.getTime() + PORTAL_SESSION_TTL_MS),
  };
  await ctx.db.query('DELETE FROM portal_sessions WHERE expires_at <= $1', [now]);
  await ctx.db.query(
    `INSERT INTO portal_sessions (id_hash, license_id, csrf_token, expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [ctx.secrets.keyedHash(DOMAIN, id), licenseId, session.csrfToken, session.expiresAt, now],
  );
  return { id, session };
}

/** The session with this id, unless unknown or expired. */
export async function findPortalSession(
  ctx: StoreContext,
  id: string,
): Promise<PortalSession | undefined> {
  if (id.length === 0 || id.length > 100) return undefined;
  const [row] = await ctx.db.query<{ license_id: string; csrf_token: string; expires_at: Date }>(
    `SELECT license_id, csrf_token, expires_at FROM portal_sessions
      WHERE id_hash = $1 AND expires_at > $2`,
    [ctx.secrets.keyedHash(DOMAIN, id), ctx.clock.now()],
  );
  return row
    ? { licenseId: row.license_id, csrfToken: row.csrf_token, expiresAt: new Date(row.expires_at) }
    : undefined;
}

/** Ends a session (sign out). */
export async function endPortalSession(ctx: StoreContext, id: string): Promise<void> {
  await ctx.db.query('DELETE FROM portal_sessions WHERE id_hash = $1', [
    ctx.secrets.keyedHash(DOMAIN, id),
  ]);
}
