import { graceEndsAtUnchecked } from '@licensekit/core';
import type { Accepted } from './acceptor.js';
import type { LedgerEntry } from './ledger.js';
import { quotaStatuses } from './quota-view.js';
import type { VerifyResult } from './result.js';
import { isValidStatus, toDate } from './result.js';
import type { Verdict } from './verdict.js';

/**
 * The full result for a token whose signature is trusted, whatever its status. `usage`
 * holds the ledger's counts; a quota without one shows nothing used in its current period.
 */
export function describe(
  accepted: Accepted,
  verdict: Verdict,
  usage: Record<string, LedgerEntry>,
  checkedAt: Date,
  now: number,
): VerifyResult {
  const { claims } = accepted;
  const result: VerifyResult = {
    valid: isValidStatus(verdict.status),
    status: verdict.status,
    reason: verdict.reason,
    message: verdict.message,
    checkedAt,
    format: accepted.format,
    kid: accepted.kid,
    claims,
    license: claims.sub,
    product: claims.aud,
    plan: claims.plan,
    trial: claims.access === 'trial',
    expiresAt: toDate(claims.exp),
    graceEndsAt: toDate(graceEndsAtUnchecked(claims)),
    refreshAfter: toDate(claims.rfa),
    entitlements: [...claims.ent],
    quotas: quotaStatuses(claims, usage, now),
    warnings: [],
  };
  if (claims.chg) result.pendingChange = { ...claims.chg, at: toDate(claims.chg.at) };
  return result;
}
