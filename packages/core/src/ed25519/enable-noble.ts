/**
 * The opt-in for @noble/ed25519, the pure-JavaScript backend for runtimes whose WebCrypto
 * lacks Ed25519 (browsers before Chrome 137, Firefox 129, Safari 17), and for @noble/hashes'
 * SHA-256 where there is no `crypto.subtle` at all (pages on insecure origins). It is ~9 KB min+gzip,
 * about the size of the whole compact verifier, and every current runtime has WebCrypto
 * Ed25519, so it is not part of a bundle unless the app asks for it: only this function
 * mentions the module, and a bundler drops the function, and noble with it, when it is
 * never called. A bundler that splits code makes noble a chunk loaded only where the probe
 * fails; a one-file bundle inlines it.
 *
 * `@licensekit/core/noble`, an entry of its own: the `import()` below, held by core's main
 * entry, would make every one-file verifier bundle wrap modules in lazy initialisers
 * (fallback.ts). Apps using the verifier import it from `@licensekit/verifier/noble`.
 *
 * @example
 * import { enableNobleFallback } from '@licensekit/verifier/noble';
 * enableNobleFallback(); // before the first verify
 */
import { setFallbackLoader } from './fallback.js';

export function enableNobleFallback(): void {
  setFallbackLoader(() => import('./noble.js'));
}
