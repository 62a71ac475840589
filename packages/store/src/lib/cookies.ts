/**
 * Cookies of the pages (RFC 6265bis), without a cookie plugin: parsing the Cookie header
 * and writing Set-Cookie with the attributes the store always wants — HttpOnly,
 * SameSite=Strict, Path=/, and Secure with the `__Host-` name prefix when the store is
 * served over https (the prefix makes the browser refuse the cookie from anything but a
 * secure, host-only, Path=/ Set-Cookie).
 */

/** The cookies a request sent; the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    const name = part.slice(0, index).trim();
    let value = part.slice(index + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1);
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** A cookie name as set on this store: `__Host-name` over https, `name` otherwise. */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; absent = a browser-session cookie; 0 deletes it. */
  maxAge?: number;
}

/** A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/ (+ Secure over https). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!/^[\w-]+$/.test(name) || !/^[\w-]*$/.test(value)) {
    throw new Error('cookie names and values are base64url here');
  }
  let cookie = `${cookieName(name, options.secure)}=${value}; Path=/; HttpOnly; SameSite=Strict`;
  if (options.maxAge !== undefined) cookie += `; Max-Age=${options.maxAge}`;
  if (options.secure) cookie += '; Secure';
  return cookie;
}
