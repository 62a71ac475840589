import type { LicenseClaims } from '@licensekit/core';
import { periodAtUnchecked, quotaRemainingUnchecked } from '@licensekit/core';
import type { LedgerEntry } from './ledger.js';
import type { QuotaStatus } from './result.js';
import { toDate } from './result.js';

/**
 * Every quota of the license as the app sees it: limit, used, remaining and when the
 * current period ends (null for whole-term quotas). A quota missing from `usage` has
 * nothing used in the period around `now` (the stateless compact entry passes none).
 */
export function quotaStatuses(
  claims: LicenseClaims,
  usage: Record<string, LedgerEntry>,
  now: number,
): Record<string, QuotaStatus> {
  const statuses: Record<string, QuotaStatus> = {};
  for (const [name, spec] of Object.entries(claims.quota)) {
    const entry = usage[name] ?? { used: 0, window: now };
    const unlimited = 'unlimited' in spec;
    statuses[name] = {
      unlimited,
      limit: unlimited ? null : spec.limit,
      used: entry.used,
      remaining: unlimited ? null : quotaRemainingUnchecked(spec, entry.used),
      resetsAt:
        'per' in spec && spec.per !== undefined
          ? toDate(periodAtUnchecked(claims.anchor ?? claims.nbf, spec.per, entry.window).end)
          : null,
    };
  }
  return statuses;
}
