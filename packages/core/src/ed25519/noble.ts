/**
 * Ed25519 over @noble/ed25519 (pure JavaScript, audited), the fallback for runtimes whose
 * WebCrypto lacks Ed25519. web.ts loads it with a dynamic import, so a browser bundle puts
 * it in a chunk of its own that only such runtimes fetch.
 */
import { getPublicKey, hashes, sign, verify } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { copyBytes } from '../encoding/bytes.js';

/** The portable SHA-256 of the same library, for contexts without crypto.subtle (web.ts). */
export { sha256 } from '@noble/hashes/sha2.js';

import { KeyError } from '../errors.js';
import type { Ed25519Backend, Ed25519PrivateKey } from './backend.js';
import { hasEd25519Lengths } from './lengths.js';
import { assertSeed } from './seed.js';

// The synchronous API needs a SHA-512. The library's default async path uses crypto.subtle,
// which is exactly what is missing in the contexts this backend exists for (insecure
// browser origins). Any correct SHA-512 is interchangeable, so replacing one an app may
// have installed changes nothing but speed.
hashes.sha512 = sha512;

// zip215: false selects strict RFC 8032 §5.1.7 decoding: canonical R and A (y < p),
// S < L, and small-order public keys refused. The library's default (ZIP-215, meant for
// consensus systems) accepts non-canonical encodings such as Wycheproof tcId 151, which
// node:crypto and WebCrypto reject; the backends must agree.
const STRICT = { zip215: false } as const;

class NoblePrivateKey implements Ed25519PrivateKey {
  readonly publicKey: Uint8Array;
  // A private field: JSON.stringify and util.inspect never show it (DESIGN.md: keys are never logged).
  readonly #seed: Uint8Array;

  constructor(seed: Uint8Array) {
    this.#seed = copyBytes(seed);
    this.publicKey = getPublicKey(this.#seed);
  }

  static seedOf(handle: Ed25519PrivateKey): Uint8Array {
    if (!(#seed in handle)) {
      throw new KeyError('Ed25519 private key handle was not imported by the noble backend');
    }
    return handle.#seed;
  }
}

/**
 * Strict RFC 8032 Ed25519 in pure JavaScript. Needs no WebCrypto at all.
 * @example
 * const key = await nobleBackend.importPublicKey(publicKeyBytes);
 * const ok = await nobleBackend.verify(key, message, signature);
 */
export const nobleBackend: Ed25519Backend = {
  name: 'noble',

  // Nothing to precompute: noble decodes the point on every verification.
  async importPublicKey(raw) {
    return { raw: raw instanceof Uint8Array ? copyBytes(raw) : new Uint8Array(0) };
  },

  async verify(key, message, signature) {
    if (!hasEd25519Lengths(key.raw, signature)) return false;
    try {
      return verify(signature, message, key.raw, STRICT);
    } catch {
      return false;
    }
  },

  async importPrivateKey(seed) {
    assertSeed(seed);
    return new NoblePrivateKey(seed);
  },

  async sign(key, message) {
    return sign(message, NoblePrivateKey.seedOf(key));
  },
};
