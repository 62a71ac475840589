import type { FastifyReply, FastifyRequest } from 'fastify';
import { serializeCookie } from '../../lib/cookies.js';
import { safeEqual } from '../../lib/secrets.js';
import { storeContext } from '../../lib/store-context.js';
import type { VendorSession } from '../../services/vendor-sessions.js';
import {
  createVendorSession,
  findVendorSession,
  VENDOR_SESSION_TTL_MS,
} from '../../services/vendor-sessions.js';
import { addCookie, cookieOf, secureCookies } from './http.js';

/** The vendor dashboard's session of a request: its cookie, the row behind it, the CSRF check. */

export const VENDOR_COOKIE = 'lk_vendor';

const sessions = new WeakMap<FastifyRequest, VendorSession>();

/** Reads the session cookie and looks the session up (once per request). */
export async function loadVendorSession(
  request: FastifyRequest,
): Promise<VendorSession | undefined> {
  const known = sessions.get(request);
  if (known) return known;
  const id = cookieOf(request, request.server.config, VENDOR_COOKIE);
  if (!id) return undefined;
  const session = await findVendorSession(storeContext(request.server), id);
  if (session) sessions.set(request, session);
  return session;
}

/** The session loaded for this request, if any. */
export function vendorSessionOf(request: FastifyRequest): VendorSession | undefined {
  return sessions.get(request);
}

/** Opens a session and sets its cookie (HttpOnly, SameSite=Strict, Secure over https). */
export async function startVendorSession(
  request: FastifyRequest,
  reply: FastifyReply,
  signedIn: { vendorId: string; tokenId: string },
): Promise<VendorSession> {
  const { server } = request;
  const session = await createVendorSession(storeContext(server), signedIn);
  addCookie(
    reply,
    serializeCookie(VENDOR_COOKIE, session.id, {
      secure: secureCookies(server.config),
      maxAge: VENDOR_SESSION_TTL_MS / 1000,
    }),
  );
  sessions.set(request, session);
  return session;
}

export function clearVendorCookie(request: FastifyRequest, reply: FastifyReply): void {
  addCookie(
    reply,
    serializeCookie(VENDOR_COOKIE, '', { secure: secureCookies(request.server.config), maxAge: 0 }),
  );
}

/** Whether a form carries the session's CSRF token (constant-time comparison). */
export function vendorCsrfMatches(session: VendorSession, given: string | undefined): boolean {
  return given !== undefined && safeEqual(session.csrfToken, given);
}
