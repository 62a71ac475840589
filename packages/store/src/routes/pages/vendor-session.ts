import { storeContext } from '../../lib/store-context.js';
import type { VendorSession } from '../../services/vendor-sessions.js';
import {
  createVendorSession,
  findVendorSession,
  VENDOR_SESSION_TTL_MS,
} from '../../services/vendor-sessions.js';
import { csrfMatches, tokenSessions } from './token-session.js';

/** The vendor dashboard's session of a request: its cookie, the row behind it, the CSRF check. */

export const VENDOR_COOKIE = 'lk_vendor';

const sessions = tokenSessions<VendorSession, { vendorId: string; tokenId: string }>({
  cookie: VENDOR_COOKIE,
  lifetimeMs: VENDOR_SESSION_TTL_MS,
  find: (request, id) => findVendorSession(storeContext(request.server), id),
  create: (request, signedIn) => createVendorSession(storeContext(request.server), signedIn),
});

export const loadVendorSession = sessions.load;
export const vendorSessionOf = sessions.of;
/** Opens a session for the vendor and token sign-in found, and sets its cookie. */
export const startVendorSession = sessions.start;
export const clearVendorCookie = sessions.clear;
export const vendorCsrfMatches = csrfMatches;
