/**
 * @licensekit/verifier: offline verification of licensekit tokens in any JavaScript
 * runtime (Node, browsers and extensions under a strict CSP, Deno, Bun, Electron).
 */

export type { PendingChangeView, QuotaStatus, VerifyResult, VerifyStatus } from './result.js';
export { isValidStatus, STATUSES } from './result.js';
export type { TrustOptions } from './trust.js';
export type { Verifier, VerifierOptions } from './verify.js';
export { createVerifier } from './verify.js';
