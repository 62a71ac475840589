import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StoreConfig } from '../../config.js';
import { parseCookies, serializeCookie } from '../../lib/cookies.js';
import { FORM_COOKIE, newFormSecret } from '../../lib/form-tokens.js';
import type { SafeHtml } from '../../views/html.js';

/** Helpers shared by the page routes: answering with a page, reading forms, cookies. */

/**
 * Sends a page. Every page is `no-store`: they carry CSRF tokens, the portal shows a
 * license, and the confirmation the license key, none of which belongs in a cache.
 */
export function sendPage(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page.value);
}

/** Notices after a redirect (post/redirect/get): a fixed set, chosen by `?done=`. */
export function noticeOf(query: unknown, notices: Record<string, string>): string | undefined {
  const done = (query as { done?: unknown } | undefined)?.done;
  return typeof done === 'string' && Object.hasOwn(notices, done) ? notices[done] : undefined;
}

/** 303 See Other: after a POST, the browser GETs the target (post/redirect/get). */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.status(303).header('location', location).header('cache-control', 'no-store').send();
}

/**
 * The string fields of a form post. Repeated names and anything that is not a string are
 * dropped rather than guessed at; own properties only.
 */
export function readForm(body: unknown): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  if (body === null || typeof body !== 'object') return fields;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

/** Cookies are Secure (and `__Host-` prefixed) when customers reach the store over https. */
export function secureCookies(config: StoreConfig): boolean {
  return config.publicUrl.startsWith('https://');
}

export function cookieOf(
  request: FastifyRequest,
  config: StoreConfig,
  name: string,
): string | undefined {
  const cookies = parseCookies(request.headers.cookie);
  return cookies.get(secureCookies(config) ? `__Host-${name}` : name);
}

/** Adds a Set-Cookie line (Fastify appends repeated set-cookie headers rather than replacing). */
export function addCookie(reply: FastifyReply, cookie: string): void {
  reply.header('set-cookie', cookie);
}

/** The browser's form secret (see lib/form-tokens.ts), set as a cookie when it has none. */
export function formSecret(request: FastifyRequest, reply: FastifyReply, config: StoreConfig) {
  const existing = cookieOf(request, config, FORM_COOKIE);
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  return rotateFormSecret(reply, config);
}

/** A new form secret: every form rendered before it stops being accepted. */
export function rotateFormSecret(reply: FastifyReply, config: StoreConfig): string {
  const secret = newFormSecret();
  addCookie(reply, serializeCookie(FORM_COOKIE, secret, { secure: secureCookies(config) }));
  return secret;
}

/**
 * Whether a state-changing request comes from another site, by Fetch Metadata
 * (`Sec-Fetch-Site`) or, from browsers without it, by `Origin` against `Host` — the check
 * of Go's net/http CrossOriginProtection. A second line behind the CSRF tokens. `Origin:
 * null` is not refused: the store's `Referrer-Policy: no-referrer` makes older browsers
 * send it for the store's own forms.
 */
export function crossSiteRequest(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === 'null') return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}
