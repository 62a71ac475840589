import type { LicenseClaims, QuotaSpec } from '@licensekit/core';
import { quotaWindowUnchecked, tryConsume } from '@licensekit/core';
import type { QuotaUsage, StateData } from './state/state.js';
import { getOwn, setOwn } from './state/state.js';

/**
 * The offline quota ledger: usage per license, quota and period window, kept in the
 * verifier state. Periods come from `anchor` (default `nbf`) in UTC; a quota without
 * `per` counts over the whole term.
 */

export interface LedgerEntry {
  /** Units used in the current window. */
  used: number;
  /** Start of the window the count belongs to (seconds). */
  window: number;
}

/**
 * The count that applies now. A count from a later window than the clock's is kept
 * (never reset by going back in time): setting the clock back across a period boundary
 * must not hand out a second period's quota.
 */
export function currentUsage(
  state: StateData,
  claims: LicenseClaims,
  name: string,
  spec: QuotaSpec,
  now: number,
): LedgerEntry {
  // Periods run from the anchor; a quota without `per` counts over the license's whole life
  // from the anchor too, so renewed tokens (each with a new nbf) keep counting.
  const anchor = claims.anchor ?? claims.nbf;
  const window = quotaWindowUnchecked(spec, anchor, anchor, claims.exp, now).start;
  const stored = getOwn(getOwn(state.usage, claims.sub) ?? {}, name);
  if (stored === undefined || stored.window < window) return { used: 0, window };
  return { used: stored.used, window: stored.window };
}

export interface Consumption {
  granted: boolean;
  used: number;
  remaining: number;
  window: number;
}

/** Spends `amount` units if they fit; mutates the state only when granted. */
export function consume(
  state: StateData,
  claims: LicenseClaims,
  name: string,
  spec: QuotaSpec,
  amount: number,
  now: number,
): Consumption {
  const entry = currentUsage(state, claims, name, spec, now);
  const outcome = tryConsume(spec, entry.used, amount);
  if (outcome.granted) {
    let licenseUsage = getOwn(state.usage, claims.sub);
    if (licenseUsage === undefined) {
      licenseUsage = {};
      setOwn(state.usage, claims.sub, licenseUsage);
    }
    setOwn<QuotaUsage>(licenseUsage, name, { window: entry.window, used: outcome.used });
  }
  return {
    granted: outcome.granted,
    used: outcome.used,
    remaining: outcome.remaining,
    window: entry.window,
  };
}

/** Usage of every quota of a license now, for results and usage reports. */
export function usageSnapshot(
  state: StateData,
  claims: LicenseClaims,
  now: number,
): Record<string, LedgerEntry> {
  const snapshot: Record<string, LedgerEntry> = {};
  for (const [name, spec] of Object.entries(claims.quota)) {
    snapshot[name] = currentUsage(state, claims, name, spec, now);
  }
  return snapshot;
}
