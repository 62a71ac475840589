import type { FastifyReply, FastifyRequest } from 'fastify';
import { serializeCookie } from '../../lib/cookies.js';
import { safeEqual } from '../../lib/secrets.js';
import { storeContext } from '../../lib/store-context.js';
import type { PortalSession } from '../../services/portal-sessions.js';
import {
  createPortalSession,
  findPortalSession,
  PORTAL_SESSION_TTL_MS,
} from '../../services/portal-sessions.js';
import { addCookie, cookieOf, secureCookies } from './http.js';

/** The portal session of a request: its cookie, the row behind it, the CSRF check. */

export const SESSION_COOKIE = 'lk_portal';

export interface ActiveSession extends PortalSession {
  /** The session id from the cookie (never stored: the database has its keyed hash). */
  id: string;
}

const sessions = new WeakMap<FastifyRequest, ActiveSession>();

/** Reads the session cookie and looks the session up (once per request). */
export async function loadSession(request: FastifyRequest): Promise<ActiveSession | undefined> {
  const known = sessions.get(request);
  if (known) return known;
  const id = cookieOf(request, request.server.config, SESSION_COOKIE);
  if (!id) return undefined;
  const session = await findPortalSession(storeContext(request.server), id);
  if (!session) return undefined;
  const active = { ...session, id };
  sessions.set(request, active);
  return active;
}

/** The session loaded for this request, if any (error pages show the sign-out button). */
export function sessionOf(request: FastifyRequest): ActiveSession | undefined {
  return sessions.get(request);
}

/** Opens a session for the license and sets its cookie on the reply. */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  licenseId: string,
): Promise<ActiveSession> {
  const { config } = request.server;
  const { id, session } = await createPortalSession(storeContext(request.server), licenseId);
  addCookie(
    reply,
    serializeCookie(SESSION_COOKIE, id, {
      secure: secureCookies(config),
      maxAge: PORTAL_SESSION_TTL_MS / 1000,
    }),
  );
  const active = { ...session, id };
  sessions.set(request, active);
  return active;
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  addCookie(
    reply,
    serializeCookie(SESSION_COOKIE, '', {
      secure: secureCookies(request.server.config),
      maxAge: 0,
    }),
  );
}

/** Whether a form carries the session's CSRF token (constant-time comparison). */
export function csrfMatches(session: ActiveSession, given: string | undefined): boolean {
  return given !== undefined && safeEqual(session.csrfToken, given);
}
