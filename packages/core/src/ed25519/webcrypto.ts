/**
 * Ed25519 over WebCrypto (W3C Web Cryptography API, "Ed25519" algorithm), available in
 * current browsers, Deno, Bun, Cloudflare Workers and Node. Portable code: no Node types.
 */
import { base64urlDecode } from '../encoding/base64url.js';
import { KeyError, UnsupportedError } from '../errors.js';
import type { Ed25519Backend, Ed25519PrivateKey, Ed25519PublicKey } from './backend.js';
import { assertSeed, hasEd25519Lengths, PUBLIC_KEY_LENGTH } from './lengths.js';
import { pkcs8FromSeed } from './rfc8410.js';

const ED25519 = { name: 'Ed25519' } as const;

/**
 * WebIDL `BufferSource` excludes views on a SharedArrayBuffer; copy those (rare) and pass
 * everything else through without a copy.
 */
export function asBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

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

class WebCryptoPrivateKey implements Ed25519PrivateKey {
  readonly publicKey: Uint8Array;
  // Non-extractable, and in a private field: neither exportKey nor a log can reveal it.
  readonly #key: CryptoKey;

  constructor(publicKey: Uint8Array, key: CryptoKey) {
    this.publicKey = publicKey;
    this.#key = key;
  }

  static keyOf(handle: Ed25519PrivateKey): CryptoKey {
    if (!(#key in handle)) {
      throw new KeyError('Ed25519 private key handle was not imported by the webcrypto backend');
    }
    return handle.#key;
  }
}

/**
 * WebCrypto has no operation that derives a public key from a private one, but the JWK
 * export of a private OKP key carries `x` (RFC 8037 §2). So the seed is imported twice: once
 * extractable, only to read `x`, and once non-extractable, the key that is kept.
 */
async function importSigningKey(
  subtle: SubtleCrypto,
  seed: Uint8Array,
): Promise<WebCryptoPrivateKey> {
  const der = pkcs8FromSeed(seed);
  try {
    const exportable = await subtle.importKey('pkcs8', der, ED25519, true, ['sign']);
    const { x } = await subtle.exportKey('jwk', exportable);
    const publicKey = base64urlDecode(x ?? '', 'x');
    if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new Error('unexpected JWK x');
    const kept = await subtle.importKey('pkcs8', der, ED25519, false, ['sign']);
    return new WebCryptoPrivateKey(publicKey, kept);
  } finally {
    der.fill(0);
  }
}

/**
 * Ed25519 over a `SubtleCrypto`, by default `globalThis.crypto.subtle`. Whether the runtime
 * really implements Ed25519 (and strictly) is not checked here; the web platform module
 * probes it before choosing this backend.
 * @throws UnsupportedError when there is no SubtleCrypto at all (e.g. an insecure browser
 *   context, where `crypto.subtle` is undefined).
 * @example
 * const backend = webCryptoBackend();
 * const key = await backend.importPublicKey(publicKeyBytes);
 * const ok = await backend.verify(key, message, signature);
 */
export function webCryptoBackend(
  subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle,
): Ed25519Backend {
  if (subtle === undefined) {
    throw new UnsupportedError('WebCrypto (crypto.subtle) is not available in this context');
  }
  return {
    name: 'webcrypto',

    async importPublicKey(raw) {
      const copy = raw instanceof Uint8Array ? raw.slice() : new Uint8Array(0);
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

    async importPrivateKey(seed) {
      assertSeed(seed);
      try {
        return await importSigningKey(subtle, seed);
      } catch {
        throw new KeyError('WebCrypto refused the Ed25519 seed');
      }
    },

    async sign(key, message) {
      const signingKey = WebCryptoPrivateKey.keyOf(key);
      return new Uint8Array(await subtle.sign(ED25519, signingKey, asBufferSource(message)));
    },
  };
}
