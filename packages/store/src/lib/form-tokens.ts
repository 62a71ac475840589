import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import type { Secrets } from './secrets.js';
import { safeEqual } from './secrets.js';

/**
 * CSRF tokens for the forms shown before there is a portal session (checkout, sign-in):
 * signed double-submit cookies (OWASP CSRF cheat sheet). The browser holds a random form
 * secret in an HttpOnly, SameSite=Strict cookie; a form carries
 * HMAC(store secret, purpose ‖ form secret ‖ bound value) in a hidden field. A cross-site
 * page can neither read the cookie nor make the browser send it, so it cannot produce a
 * valid pair; nothing is stored on the server. The checkout binds its token to the form's
 * idempotency key, so a token cannot be moved to another order.
 */

export const FORM_COOKIE = 'lk_form';
const DOMAIN = 'form-token';

/** A new form secret (256 bits) for the form cookie. */
export function newFormSecret(): string {
  return base64urlEncode(randomBytes(32));
}

export function formToken(
  secrets: Secrets,
  purpose: string,
  formSecret: string,
  bound = '',
): string {
  return secrets.keyedHash(DOMAIN, `${purpose}\u0000${formSecret}\u0000${bound}`);
}

/** Whether `given` is the token of this purpose for this browser's form secret. */
export function checkFormToken(
  secrets: Secrets,
  purpose: string,
  formSecret: string | undefined,
  given: string | undefined,
  bound = '',
): boolean {
  if (!formSecret || !given) return false;
  return safeEqual(formToken(secrets, purpose, formSecret, bound), given);
}
