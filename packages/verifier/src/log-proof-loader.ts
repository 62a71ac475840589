import type { Ed25519Backend } from '@licensekit/core';
import { ConfigError } from '@licensekit/core';
import type { Accepted } from './acceptor.js';
import type { Decode } from './decode.js';
import type { RefreshOptions } from './refresh.js';
import type { VerifierOptions } from './types.js';
import type { Verdict } from './verdict.js';

/**
 * Where `enableLogProofs()` (@licensekit/verifier/log-proofs) registers the issuance-log
 * proof support, and where a verifier asks for it. Only that entry names the support's
 * code (log-proof-support.ts, and the checker behind an import()), so an app that never
 * calls it never bundles the log code (≈ 9 KB minified), even in a one-file bundle that
 * inlines every dynamic import: the same opt-in as core's noble fallback.
 */

/** The log-proof support of one verifier, made by the opt-in from its options. */
export interface LogProofs {
  /**
   * The `not_logged` verdict of a trusted token, or undefined when its proof holds. Key
   * strings that do not parse reject with ConfigError (and are tried again next time).
   */
  verdict(
    accepted: Accepted,
    proof: unknown,
    backend: Ed25519Backend,
  ): Promise<Verdict | undefined>;
  /**
   * The proof of a token the store sent on refresh, or why there is none as the refresh
   * outcome's `error` (see log-proofs.ts, fetchLogProof).
   */
  fetch(
    decode: Decode,
    token: string,
    carried: unknown,
    options: RefreshOptions,
  ): Promise<{ proof?: unknown; error?: string }>;
}

/**
 * Validates `requireLogProof: true` with its `trust.logKeys` (throwing ConfigError) and
 * returns the verifier's support.
 */
export type LogProofFactory = (options: VerifierOptions) => LogProofs;

let factory: LogProofFactory | undefined;

/** Registers the support; the first registration stays (enabling twice changes nothing). */
export function setLogProofFactory(make: LogProofFactory): void {
  factory ??= make;
}

/**
 * The log-proof support when `requireLogProof` is set (full entry only: the compact entry
 * has no log proofs), made by the opt-in (`enableLogProofs()`), which checks the rest of
 * the options; undefined when proofs are not required.
 * @throws ConfigError
 */
export function readLogProofs(options: VerifierOptions): LogProofs | undefined {
  if (!options.requireLogProof) {
    // Keys alone would check nothing, which a reader of the configuration would not guess.
    if (options.trust?.logKeys !== undefined) {
      throw new ConfigError('trust.logKeys needs requireLogProof: true');
    }
    return undefined;
  }
  // The checker is an opt-in (its own entry), so that apps without proofs never bundle it.
  if (factory === undefined) {
    throw new ConfigError(
      'requireLogProof needs enableLogProofs() of @licensekit/verifier/log-proofs',
    );
  }
  return factory(options);
}
