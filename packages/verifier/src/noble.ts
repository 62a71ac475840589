/**
 * @licensekit/verifier/noble: the opt-in for runtimes whose WebCrypto lacks Ed25519 (older
 * browsers). An entry of its own, so that apps which never call it never bundle the
 * pure-JavaScript backend (~9 KB min+gzip): a name exported by a main entry would be kept,
 * and noble with it, even unused.
 *
 * @example
 * import { enableNobleFallback } from '@licensekit/verifier/noble';
 * enableNobleFallback(); // before the first verify; the noble code loads only if needed
 */
export { enableNobleFallback } from '@licensekit/core/noble';
