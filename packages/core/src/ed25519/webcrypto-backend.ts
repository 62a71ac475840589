/**
 * The whole WebCrypto backend, signing included (`defaultBackend` on the web). Apart from
 * the verifying half (webcrypto.ts) so that code which only verifies never carries the
 * signing module. The import is static on purpose: with an `import()` here, every one-file
 * bundle of the verifier (no code splitting) wrapped the signing module and all it imports
 * (errors, lengths…) in lazy initialisers, called before each use, although nothing there
 * ever signs; a static import that nothing uses is simply dropped.
 */
import type { Ed25519Backend } from './backend.js';
import { webCryptoVerifier } from './webcrypto.js';
import { importPrivateKey, sign } from './webcrypto-sign.js';

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
  const verifier = webCryptoVerifier(subtle);
  return {
    ...verifier,
    importPrivateKey: (seed) => importPrivateKey(verifier.subtle, seed),
    sign: (key, message) => sign(verifier.subtle, key, message),
  };
}
