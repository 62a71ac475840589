import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import { safeEqual } from '../lib/secrets.js';
import type { StoreContext } from './context.js';

/**
 * Sessions of the admin screen. Signing in with the admin token opens one: a random
 * 256-bit id in an HttpOnly, SameSite=Strict cookie (Secure over https), stored only as its
 * keyed hash. The token itself is never kept — not in the cookie, not in the row: the row
 * holds a keyed fingerprint of it, so a store restarted with another admin token ends
 * every session opened with the old one. The CSRF token of the session's forms is derived
 * from the id (a keyed hash under its own domain): per session, nothing more to store, and
 * unknowable without the cookie. Sessions last eight hours from sign-in, no sliding.
 */

export const ADMIN_SESSION_TTL_MS = 8 * 3_600_000;
const ID_DOMAIN = 'admin-session';
const CSRF_DOMAIN = 'admin-session-csrf';
const TOKEN_DOMAIN = 'admin-token-fingerprint';
const ID_PATTERN = /^[\w-]{43}$/;

type SessionContext = Pick<StoreContext, 'db' | 'clock' | 'secrets'>;

export interface AdminSession {
  /** The id from the cookie (never stored). */
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

function fingerprint(ctx: SessionContext, adminToken: string): string {
  return ctx.secrets.keyedHash(TOKEN_DOMAIN, adminToken);
}

function csrfOf(ctx: SessionContext, id: string): string {
  return ctx.secrets.keyedHash(CSRF_DOMAIN, id);
}

/** Opens a session (the caller has checked the token); also forgets expired sessions. */
export async function createAdminSession(
  ctx: SessionContext,
  adminToken: string,
): Promise<AdminSession> {
  const now = ctx.clock.now();
  const id = base64urlEncode(randomBytes(32));
  const expiresAt = new Date(now.getTime() + ADMIN_SESSION_TTL_MS);
  await ctx.db.query('DELETE FROM admin_sessions WHERE expires_at <= $1', [now]);
  await ctx.db.query(
    `INSERT INTO admin_sessions (id_hash, token_fingerprint, created_at, expires_at)
     VALUES ($1, $2, $3, $4)`,
    [ctx.secrets.keyedHash(ID_DOMAIN, id), fingerprint(ctx, adminToken), now, expiresAt],
  );
  return { id, csrfToken: csrfOf(ctx, id), expiresAt };
}

/** The session with this id, unless unknown, expired, or opened with another admin token. */
export async function findAdminSession(
  ctx: SessionContext,
  id: string,
  adminToken: string,
): Promise<AdminSession | undefined> {
  if (!ID_PATTERN.test(id)) return undefined;
  const [row] = await ctx.db.query<{ token_fingerprint: string; expires_at: Date }>(
    'SELECT token_fingerprint, expires_at FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2',
    [ctx.secrets.keyedHash(ID_DOMAIN, id), ctx.clock.now()],
  );
  if (!row || !safeEqual(row.token_fingerprint, fingerprint(ctx, adminToken))) return undefined;
  return { id, csrfToken: csrfOf(ctx, id), expiresAt: new Date(row.expires_at) };
}

/** Ends a session (sign out). */
export async function endAdminSession(ctx: SessionContext, id: string): Promise<void> {
  await ctx.db.query('DELETE FROM admin_sessions WHERE id_hash = $1', [
    ctx.secrets.keyedHash(ID_DOMAIN, id),
  ]);
}
