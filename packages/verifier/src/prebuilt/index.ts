/**
 * The prebuilt browser file `licensekit-verifier.js` (scripts/browser-bundle.mjs): the full
 * entry with the noble fallback switched on. Pages load that file without a bundler, and
 * code splitting keeps noble a chunk that only runtimes without WebCrypto Ed25519 fetch, so
 * there the fallback costs nothing. Apps that bundle `@licensekit/verifier` themselves opt
 * in with `enableNobleFallback()` (a one-file bundle would otherwise always carry noble).
 */
import { enableNobleFallback } from '@licensekit/core';

enableNobleFallback();

export * from '../index.js';
