import type { LicenseClaims, PendingChange, TokenFormat } from '@licensekit/core';

/**
 * Verification statuses in the order they are checked (DESIGN.md "Verification result");
 * the first that applies wins. The last four are valid. `not_logged` (only with
 * `requireLogProof`) follows the signature: whether the issuance itself is genuine comes
 * before anything about the license's validity, so a signed token the log does not
 * contain — a stolen issuer key at work — is reported as such even when it is also
 * revoked or expired.
 */
export const STATUSES = [
  'malformed',
  'untrusted_key',
  'invalid_signature',
  'not_logged',
  'revoked',
  'wrong_product',
  'wrong_device',
  'rolled_back',
  'clock_tampered',
  'not_yet_valid',
  'expired',
  'grace',
  'refresh_due',
  'trial',
  'active',
] as const;

export type VerifyStatus = (typeof STATUSES)[number];

const VALID: ReadonlySet<VerifyStatus> = new Set(['grace', 'refresh_due', 'trial', 'active']);

export function isValidStatus(status: VerifyStatus): boolean {
  return VALID.has(status);
}

/** One quota as the app sees it now. `limit` and `remaining` are null when unlimited. */
export interface QuotaStatus {
  unlimited: boolean;
  limit: number | null;
  used: number;
  remaining: number | null;
  /** Start of the next period; null for a whole-term quota. */
  resetsAt: Date | null;
}

export interface PendingChangeView extends Omit<PendingChange, 'at'> {
  at: Date;
}

/**
 * What `verify` returns: never thrown, always a status. Claims are present only once the
 * signature has been checked against a trusted key (an unverified token's claims are
 * never handed to the app).
 */
export interface VerifyResult {
  valid: boolean;
  status: VerifyStatus;
  /** Stable machine-readable reason (see README "Reasons"). */
  reason: string;
  /** One sentence for people; never contains key material. */
  message: string;
  /** When the check was made (the injected clock, read once). */
  checkedAt: Date;
  format?: TokenFormat;
  kid?: string;
  claims?: LicenseClaims;
  license?: string;
  product?: string;
  plan?: string;
  trial?: boolean;
  expiresAt: Date | null;
  graceEndsAt: Date | null;
  refreshAfter: Date | null;
  entitlements: string[];
  quotas: Record<string, QuotaStatus>;
  pendingChange?: PendingChangeView;
  /** Things the app may want to surface but that do not invalidate (e.g. a stale revocation list). */
  warnings: string[];
}

/** A failed check, before claims are known or trusted. */
export function rejection(
  status: VerifyStatus,
  reason: string,
  message: string,
  checkedAt: Date,
): VerifyResult {
  return {
    valid: false,
    status,
    reason,
    message,
    checkedAt,
    expiresAt: null,
    graceEndsAt: null,
    refreshAfter: null,
    entitlements: [],
    quotas: {},
    warnings: [],
  };
}

export function toDate(seconds: number): Date;
export function toDate(seconds: number | undefined): Date | null;
export function toDate(seconds: number | undefined): Date | null {
  return seconds === undefined ? null : new Date(seconds * 1000);
}
