/**
 * The prebuilt browser file `licensekit-verifier.js` (scripts/browser-bundle.mjs): the full
 * entry with the noble fallback and the issuance-log proof checker switched on. Pages load
 * that file without a bundler, and code splitting keeps each a chunk fetched only when
 * needed (noble where WebCrypto lacks Ed25519, the checker on the first check of a verifier
 * with `requireLogProof`), so there they cost nothing. Apps that bundle
 * `@licensekit/verifier` themselves opt in with `enableNobleFallback()` and
 * `enableLogProofs()` (a one-file bundle would otherwise always carry both). Pages also get
 * the web device keys here (`@licensekit/verifier/device` for bundled apps).
 */
import { enableNobleFallback } from '@licensekit/core/noble';
import { enableLogProofs } from '../enable-log-proofs.js';

enableNobleFallback();
enableLogProofs();

export * from '../device.js';
export * from '../index.js';
