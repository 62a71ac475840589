import { randomFillSync } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';

// 128 bits from the OS CSPRNG: collisions are negligible across any number of tokens a
// vendor will ever issue (birthday bound 2^64), and the value reveals nothing about order.
const TOKEN_ID_BYTES = 16;

// One call into the CSPRNG costs about as much as a third of a signature; ids are drawn
// from a pool refilled 256 at a time instead (node:crypto's randomUUID does the same).
// Every id is used once: the pool is refilled, never reread.
const pool = new Uint8Array(TOKEN_ID_BYTES * 256);
let next = pool.length;

/** A fresh `jti` (licenses, certificates): 16 random bytes, base64url (22 characters). */
export function randomTokenId(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  next += TOKEN_ID_BYTES;
  return base64urlEncode(pool.subarray(next - TOKEN_ID_BYTES, next));
}
