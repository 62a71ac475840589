import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';

/**
 * The store's keyed hashing. License keys, idempotency keys and portal sessions are kept
 * only as HMAC-SHA-256 under the store secret (a 0600 file in the data directory, or
 * LICENSEKIT_SECRET): a copy of the database alone cannot confirm a guessed key.
 */
export class Secrets {
  readonly #secret: Buffer;

  constructor(secret: Uint8Array) {
    if (secret.length < 32) throw new Error('the store secret must be at least 32 bytes');
    this.#secret = Buffer.from(secret);
  }

  static generate(): Uint8Array {
    return randomBytes(32);
  }

  /** Keyed hash of a secret value in a named domain (so hashes never collide across uses). */
  keyedHash(domain: string, value: string): string {
    return base64urlEncode(
      createHmac('sha256', this.#secret).update(`${domain}\u0000${value}`).digest(),
    );
  }

  /** A key derived from the store secret and a caller-held value (idempotency keys). */
  deriveKey(domain: string, value: string): Buffer {
    return Buffer.from(
      hkdfSync('sha256', this.#secret, Buffer.from(value), Buffer.from(domain), 32),
    );
  }

  toJSON(): string {
    return '[secret]';
  }
}

export function sha256(value: string | Uint8Array): string {
  return base64urlEncode(createHash('sha256').update(value).digest());
}

/**
 * Constant-time comparison of two strings (admin tokens). Their SHA-256 digests are
 * compared, not the strings: digests have one length, so neither an early answer on a
 * length mismatch nor the time of the comparison tells how long the secret is.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}
