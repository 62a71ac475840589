import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';

// 128 bits from the OS CSPRNG: collisions are negligible across any number of tokens a
// vendor will ever issue (birthday bound 2^64), and the value reveals nothing about order.
const TOKEN_ID_BYTES = 16;

/** A fresh `jti` (licenses, certificates): 16 random bytes, base64url (22 characters). */
export function randomTokenId(): string {
  return base64urlEncode(randomBytes(TOKEN_ID_BYTES));
}
