import type { Ed25519Backend } from '@licensekit/core';
import type { LogProofBundle } from '@licensekit/core/log';
import type { DeviceKey } from './device/device-key.js';
import type { LedgerEntry } from './ledger.js';
import type { RefreshOptions, RefreshOutcome } from './refresh.js';
import type { VerifyResult } from './result.js';
import type { RevocationUpdate } from './revocation-registry.js';
import type { StateStore } from './state/state.js';
import type { TrustOptions } from './trust.js';

/** The public types of the verifier (options, results, the Verifier itself). */

export interface VerifierOptions {
  /**
   * Root keys (they certify issuer keys) and/or issuer keys, as public JWKs; with
   * `requireLogProof`, the issuance log's verifier keys as `logKeys`.
   */
  trust: TrustOptions;
  /** The product id of this app; a license for another product is `wrong_product`. */
  product: string;
  /** Current time in epoch milliseconds (or a Date). Read once per call. Default Date.now. */
  clock?: () => number | Date;
  /** Seconds of clock skew allowed for `nbf`/`iat` and certificate windows. Default 60. */
  leeway?: number;
  /**
   * Seconds the clock may be behind the highest time already seen before the result is
   * `clock_tampered`. Default 86 400 (one day): wide enough for a machine whose clock
   * was briefly wrong or that dual-boots with the RTC in local time, narrow enough that
   * setting the clock back two days is caught.
   */
  clockTolerance?: number;
  /**
   * Where the marks (time high-water, highest seq per license, quota usage, newest
   * revocation list) persist. Default: memory, which protects one process only. `false`
   * keeps no marks at all (no rollback or clock checks, no `consume`): for servers that
   * verify tokens of many devices, whose lineages interleave.
   */
  state?: StateStore | false;
  /**
   * This device's key, for licenses bound with `cnf`. A DeviceKey also signs refresh
   * requests and usage reports; a bare `{ thumbprint }` only checks the binding.
   */
  device?: DeviceKey | { thumbprint: string };
  /** A revocation list token to apply from the start (a newer one in the state wins). */
  revocations?: string;
  /**
   * Accept a license only with a proof that the store's issuance log contains it: an
   * inclusion proof under a checkpoint signed by one of `trust.logKeys`, passed as
   * `{ logProof }` to each call. Without a valid one the result is `not_logged`. This
   * catches tokens signed outside the store (a stolen issuer key), which the log would not
   * hold. Default false: proofs are then ignored entirely. Not in the compact entry.
   */
  requireLogProof?: boolean;
  /** Ed25519 implementation; by default the best one of the platform. */
  backend?: Ed25519Backend;
  /**
   * How many verified tokens to remember by their exact text, so re-checking one skips
   * decoding and the signature (status, state and time are still recomputed on every
   * call). 0 disables. Default 16.
   */
  cacheSize?: number;
}

/**
 * A proof bundle (core's `LogProofBundle`) as the store's `GET /v1/log/proof` returns it —
 * `{ index, treeSize, inclusion, checkpoint }`, optionally with `kind: "license"` — parsed
 * or as its JSON text. Untrusted input: anything else is `not_logged`, never a throw.
 */
export type LogProof = (LogProofBundle & { readonly kind?: string }) | string;

/** What a call may carry beside the token. */
export interface CheckOptions {
  /** The token's issuance log proof; read only when the verifier has `requireLogProof`. */
  logProof?: LogProof | undefined;
}

export interface ConsumeResult {
  /** Whether the units were spent. */
  granted: boolean;
  quota: string;
  amount: number;
  /** `granted`, `exhausted`, `unknown_quota`, or the license's status when not valid. */
  reason: string;
  message: string;
  used: number;
  limit: number | null;
  remaining: number | null;
  resetsAt: Date | null;
  /** The verification the consumption was decided on. */
  license: VerifyResult;
}

/** JWS typ of a device-signed usage report. */
export const USAGE_REPORT_TYPE = 'lic-usage+jwt';

/** What the app sends to the store's usage endpoint before or at its next refresh. */
export interface UsageReport {
  license: string;
  product: string;
  /** seq of the token the report was made under. */
  seq: number;
  /** Seconds since the epoch. */
  generatedAt: number;
  device?: string;
  quotas: Record<string, LedgerEntry>;
}

export interface UsageReportOutcome {
  license: VerifyResult;
  /** Absent when the token was not trusted. */
  report?: UsageReport;
  /** The report as a compact JWS signed by the device key (bound licenses). */
  signed?: string;
}

export interface Verifier {
  /**
   * Verifies a license token offline. Never throws for a bad token (or a bad log proof);
   * returns a result.
   */
  verify(token: string | Uint8Array, options?: CheckOptions): Promise<VerifyResult>;
  /**
   * Spends `amount` units of a quota offline, atomically against the state: never past
   * the limit (then `granted` is false, `remaining` 0 and `resetsAt` the next reset).
   */
  consume(
    token: string | Uint8Array,
    quota: string,
    amount?: number,
    options?: CheckOptions,
  ): Promise<ConsumeResult>;
  /** Applies a newer signed revocation list; an older or equal one never replaces it. */
  updateRevocations(listToken: string): Promise<RevocationUpdate>;
  /**
   * Fetches a newer token from the store when this one is due (refresh_due, grace,
   * expired, or a pending change has taken effect). Never blocks `verify`; backs off after
   * failures; accepts only a valid token that extends this license's lineage. While the
   * store is unreachable the app keeps working until grace ends. With `requireLogProof`
   * the new token is installed only with a valid log proof (`outcome.logProof`).
   */
  refreshIfDue(token: string | Uint8Array, options: RefreshOptions): Promise<RefreshOutcome>;
  /** The usage ledger of a license: units used in the current window of each quota. */
  usage(
    token: string | Uint8Array,
    options?: CheckOptions,
  ): Promise<{ license: VerifyResult; usage: Record<string, LedgerEntry> }>;
  /**
   * The ledger as a report for the store's usage endpoint, signed by the device key
   * (compact JWS, typ "lic-usage+jwt") when the license is bound and the device can sign.
   */
  usageReport(token: string | Uint8Array, options?: CheckOptions): Promise<UsageReportOutcome>;
  readonly product: string;
  readonly device: DeviceKey | { thumbprint: string } | undefined;
}
