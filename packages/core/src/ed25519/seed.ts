import { KeyError } from '../errors.js';

/**
 * The Ed25519 secret key: a 32-byte seed (RFC 8032 §5.1.5). Apart from lengths.ts because
 * only signing code needs it: a browser bundle shares lengths.ts between the verifier and
 * the lazily loaded signing chunks, and esbuild splits shared code by module.
 */
export const SEED_LENGTH = 32;

/**
 * Rejects anything but a 32-byte seed. A 64-byte "expanded" key (seed || public key, as
 * libsodium stores it) is refused on purpose: accepting it would let a mismatched public half
 * slip through unnoticed.
 * @throws KeyError
 */
export function assertSeed(seed: unknown): asserts seed is Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new KeyError(`Ed25519 private key must be a ${SEED_LENGTH}-byte seed`);
  }
}
