/**
 * The signing half of the WebCrypto backend (webcrypto.ts loads it on first use).
 */
import { KeyError } from '../errors.js';
import type { Ed25519PrivateKey } from './backend.js';
import { asBufferSource, PUBLIC_KEY_LENGTH } from './lengths.js';
import { pkcs8FromSeed } from './rfc8410.js';
import { assertSeed } from './seed.js';

const ED25519 = { name: 'Ed25519' } as const;

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
    // `x` comes from this runtime's own export, so the lenient atob suffices (and keeps
    // the strict decoder out of this chunk).
    const publicKey = Uint8Array.from(atob((x ?? '').replace(/-/g, '+').replace(/_/g, '/')), (c) =>
      c.charCodeAt(0),
    );
    if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new Error('unexpected JWK x');
    const kept = await subtle.importKey('pkcs8', der, ED25519, false, ['sign']);
    return new WebCryptoPrivateKey(publicKey, kept);
  } finally {
    der.fill(0);
  }
}

export async function importPrivateKey(
  subtle: SubtleCrypto,
  seed: Uint8Array,
): Promise<Ed25519PrivateKey> {
  assertSeed(seed);
  try {
    return await importSigningKey(subtle, seed);
  } catch {
    throw new KeyError('WebCrypto refused the Ed25519 seed');
  }
}

export async function sign(
  subtle: SubtleCrypto,
  key: Ed25519PrivateKey,
  message: Uint8Array,
): Promise<Uint8Array> {
  const signingKey = WebCryptoPrivateKey.keyOf(key);
  return new Uint8Array(await subtle.sign(ED25519, signingKey, asBufferSource(message)));
}
