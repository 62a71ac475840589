import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';

/** Random ids with a readable prefix (lic_, ord_, cus_, dev_, msg_ …): 128 bits. */
export function newId(prefix: string): string {
  return `${prefix}_${base64urlEncode(randomBytes(16))}`;
}

// Crockford's base32 alphabet: no I, L, O, U, so keys read aloud or typed are unambiguous.
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A license key: 160 random bits in Crockford base32, grouped by five
 * (LK-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XX), shown to the customer once.
 */
export function newLicenseKey(): string {
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `LK-${out.match(/.{1,5}/g)!.join('-')}`;
}

/** Normalises what a customer typed (core: shared with apps that compute a key's hint). */
export { normaliseLicenseKey } from '@licensekit/core/offline';
