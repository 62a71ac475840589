import type { FastifyReply, FastifyRequest } from 'fastify';
import { serializeCookie } from '../../lib/cookies.js';
import { safeEqual } from '../../lib/secrets.js';
import { storeContext } from '../../lib/store-context.js';
import type { AdminSession } from '../../services/admin-sessions.js';
import {
  ADMIN_SESSION_TTL_MS,
  createAdminSession,
  findAdminSession,
} from '../../services/admin-sessions.js';
import { addCookie, cookieOf, secureCookies } from './http.js';

/** The admin screen's session of a request: its cookie, the row behind it, the CSRF check. */

export const ADMIN_COOKIE = 'lk_admin';

const sessions = new WeakMap<FastifyRequest, AdminSession>();

/** Reads the session cookie and looks the session up (once per request). */
export async function loadAdminSession(request: FastifyRequest): Promise<AdminSession | undefined> {
  const known = sessions.get(request);
  if (known) return known;
  const id = cookieOf(request, request.server.config, ADMIN_COOKIE);
  if (!id) return undefined;
  const session = await findAdminSession(
    storeContext(request.server),
    id,
    request.server.adminToken,
  );
  if (session) sessions.set(request, session);
  return session;
}

/** The session loaded for this request, if any. */
export function adminSessionOf(request: FastifyRequest): AdminSession | undefined {
  return sessions.get(request);
}

/** Opens a session and sets its cookie (HttpOnly, SameSite=Strict, Secure over https). */
export async function startAdminSession(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AdminSession> {
  const { server } = request;
  const session = await createAdminSession(storeContext(server), server.adminToken);
  addCookie(
    reply,
    serializeCookie(ADMIN_COOKIE, session.id, {
      secure: secureCookies(server.config),
      maxAge: ADMIN_SESSION_TTL_MS / 1000,
    }),
  );
  sessions.set(request, session);
  return session;
}

export function clearAdminCookie(request: FastifyRequest, reply: FastifyReply): void {
  addCookie(
    reply,
    serializeCookie(ADMIN_COOKIE, '', {
      secure: secureCookies(request.server.config),
      maxAge: 0,
    }),
  );
}

/** Whether a form carries the session's CSRF token (constant-time comparison). */
export function adminCsrfMatches(session: AdminSession, given: string | undefined): boolean {
  return given !== undefined && safeEqual(session.csrfToken, given);
}
