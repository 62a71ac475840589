/**
 * Ed25519 over WebCrypto (W3C Web Cryptography API, "Ed25519" algorithm), available in
 * current browsers, Deno, Bun, Cloudflare Workers and Node. Portable code: no Node types.
 */
import { UnsupportedError } from '../errors.js';
import type { Ed25519Backend, Ed25519PublicKey } from './backend.js';
import { asBufferSource, hasEd25519Lengths, PUBLIC_KEY_LENGTH } from './lengths.js';

export { asBufferSource };

const ED25519 = { name: 'Ed25519' } as const;

/** Null when the runtime refuses the key (or lacks Ed25519): such a handle verifies nothing. */
async function importVerifyKey(subtle: SubtleCrypto, raw: Uint8Array): Promise<CryptoKey | null> {
  if (!(raw instanceof Uint8Array) || raw.length !== PUBLIC_KEY_LENGTH) return null;
  try {
    return await subtle.importKey('raw', asBufferSource(raw), ED25519, false, ['verify']);
  } catch {
    return null;
  }
}

class WebCryptoPublicKey implements Ed25519PublicKey {
  readonly raw: Uint8Array;
  readonly #key: CryptoKey | null;

  constructor(raw: Uint8Array, key: CryptoKey | null) {
    this.raw = raw;
    this.#key = key;
  }

  /** A handle made by another backend still works, at the price of an import per call. */
  static keyOf(subtle: SubtleCrypto, handle: Ed25519PublicKey): Promise<CryptoKey | null> {
    return #key in handle ? Promise.resolve(handle.#key) : importVerifyKey(subtle, handle.raw);
  }
}

const verifyOnly = async (): Promise<never> => {
  throw new UnsupportedError('this backend only verifies (defaultVerifyBackend)');
};

/**
 * The verifying half of `webCryptoBackend`: signing throws UnsupportedError. What the
 * verifier uses in browsers, so that an app's one-file bundle (where a dynamic import is
 * inlined) carries no signing code at all.
 * @throws UnsupportedError when there is no SubtleCrypto at all
 */
export function webCryptoVerifier(
  subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle,
): Ed25519Backend & { readonly subtle: SubtleCrypto } {
  if (subtle === undefined) {
    throw new UnsupportedError('no crypto.subtle in this context');
  }
  return {
    name: 'webcrypto',
    subtle,
    importPrivateKey: verifyOnly,
    sign: verifyOnly,

    async importPublicKey(raw) {
      // new Uint8Array, not slice(): a Node Buffer's slice() is a view, not a copy.
      const copy = raw instanceof Uint8Array ? new Uint8Array(raw) : new Uint8Array(0);
      return new WebCryptoPublicKey(copy, await importVerifyKey(subtle, copy));
    },

    async verify(key, message, signature) {
      if (!hasEd25519Lengths(key.raw, signature)) return false;
      try {
        const cryptoKey = await WebCryptoPublicKey.keyOf(subtle, key);
        if (cryptoKey === null) return false;
        return await subtle.verify(
          ED25519,
          cryptoKey,
          asBufferSource(signature),
          asBufferSource(message),
        );
      } catch {
        return false;
      }
    },
  };
}
