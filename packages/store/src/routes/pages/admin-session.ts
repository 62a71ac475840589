import type { FastifyReply, FastifyRequest } from 'fastify';
import { storeContext } from '../../lib/store-context.js';
import type { AdminSession } from '../../services/admin-sessions.js';
import {
  ADMIN_SESSION_TTL_MS,
  createAdminSession,
  findAdminSession,
} from '../../services/admin-sessions.js';
import { csrfMatches, tokenSessions } from './token-session.js';

/** The admin screen's session of a request: its cookie, the row behind it, the CSRF check. */

export const ADMIN_COOKIE = 'lk_admin';

const sessions = tokenSessions<AdminSession, void>({
  cookie: ADMIN_COOKIE,
  lifetimeMs: ADMIN_SESSION_TTL_MS,
  // A session opened with another admin token (the token was rotated) is no session.
  find: (request, id) =>
    findAdminSession(storeContext(request.server), id, request.server.adminToken),
  create: (request) => createAdminSession(storeContext(request.server), request.server.adminToken),
});

export const loadAdminSession = sessions.load;
export const adminSessionOf = sessions.of;

/** Opens a session and sets its cookie (HttpOnly, SameSite=Strict, Secure over https). */
export function startAdminSession(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AdminSession> {
  return sessions.start(request, reply);
}

export const clearAdminCookie = sessions.clear;
export const adminCsrfMatches = csrfMatches;
