import type { LicenseClaims } from '@licensekit/core';
import { quotaRemaining, quotaWindow } from '@licensekit/core';
import type { QuotaStatus } from './result.js';
import { toDate } from './result.js';

/** Usage counted so far in the current window of each quota (from the state's ledger). */
export type UsageLookup = (quota: string, windowStart: number) => number;

/**
 * Every quota of the license as the app sees it at `now`: limit, used, remaining and when
 * the current period ends. Periods run from `anchor` (default `nbf`) in UTC.
 */
export function quotaStatuses(
  claims: LicenseClaims,
  now: number,
  usedIn: UsageLookup,
): Record<string, QuotaStatus> {
  const statuses: Record<string, QuotaStatus> = {};
  const anchor = claims.anchor ?? claims.nbf;
  for (const [name, spec] of Object.entries(claims.quota)) {
    const window = quotaWindow(spec, anchor, claims.nbf, claims.exp, now);
    const used = usedIn(name, window.start);
    const unlimited = 'unlimited' in spec;
    statuses[name] = {
      unlimited,
      limit: unlimited ? null : spec.limit,
      used,
      remaining: unlimited ? null : quotaRemaining(spec, used),
      resetsAt: 'per' in spec && spec.per !== undefined ? toDate(window.end) : null,
    };
  }
  return statuses;
}
