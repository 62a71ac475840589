/**
 * License status as a function of time: the time-dependent steps 8–12 of DESIGN.md
 * "Verification result", first match wins:
 *
 * 1. `not_yet_valid` — now < max(nbf, iat) − leeway
 * 2. `expired`       — exp is set and now ≥ exp + grace
 * 3. `grace`         — exp ≤ now < exp + grace
 * 4. `refresh_due`   — rfa is set and now ≥ rfa
 * 5. `trial` or `active`, from the `access` claim
 *
 * Leeway absorbs clock skew at the start only. The end of the term gets none: `grace` is the
 * vendor's explicit allowance after `exp`, and adding leeway on top would let every verifier
 * stretch it by its own setting. A license without `exp` is perpetual and never expires.
 *
 * Because each status is decided by comparing `now` with fixed instants in this order, the
 * rank below never decreases as `now` grows, whatever the claims: active → refresh_due →
 * grace → expired never goes back.
 */
import { ConfigError } from '../errors.js';
import { requireNonNegativeInteger, requireSafeInteger } from './guards.js';

/** The time claims of a license (DESIGN.md "Claims"), NumericDate seconds. */
export interface TimeClaims {
  iat: number;
  nbf: number;
  /** End of the paid term; absent for a perpetual license. */
  exp?: number | undefined;
  /** Seconds after `exp` during which the license still works, with a warning. */
  grace?: number | undefined;
  /** Refresh-after: from then on the app should refresh when online. */
  rfa?: number | undefined;
  access: 'full' | 'trial';
}

export type TimeStatus = 'not_yet_valid' | 'expired' | 'grace' | 'refresh_due' | 'trial' | 'active';

const RANK: Readonly<Record<TimeStatus, number>> = {
  not_yet_valid: 0,
  trial: 1,
  active: 1,
  refresh_due: 2,
  grace: 3,
  expired: 4,
};

/**
 * Position of a status on the license's timeline, for comparing two readings: it never
 * decreases as time passes. `trial` and `active` share a rank (they differ by plan, not time).
 */
export function timeStatusRank(status: TimeStatus): number {
  if (!Object.hasOwn(RANK, status)) {
    throw new ConfigError(`unknown time status ${String(status)}`);
  }
  return RANK[status];
}

/**
 * The first instant at which the license is `expired`: exp + grace, or undefined for a
 * perpetual license (no `exp`).
 *
 * @example
 * graceEndsAt({ exp: 1_700_000_000, grace: 604_800 }); // 1_700_604_800
 * @throws ConfigError when exp + grace is beyond 2^53 and so has no exact NumericDate.
 */
export function graceEndsAt(claims: Pick<TimeClaims, 'exp' | 'grace'>): number | undefined {
  requireEndClaims(claims);
  const end = graceEndsAtUnchecked(claims);
  if (end !== undefined && !Number.isSafeInteger(end)) {
    throw new ConfigError('exp + grace is not a safe integer');
  }
  return end;
}

/**
 * {@link graceEndsAt} for validated license claims, whose exp (≤ year 9999) and grace
 * (≤ ten years) always add up to a safe integer.
 */
export function graceEndsAtUnchecked(
  claims: Pick<TimeClaims, 'exp' | 'grace'>,
): number | undefined {
  return claims.exp === undefined ? undefined : claims.exp + (claims.grace ?? 0);
}

/**
 * Status of a license at `now`, allowing `leeway` seconds of clock skew before the start.
 *
 * @example
 * timeStatus({ iat: 0, nbf: 0, exp: 100, grace: 10, access: 'full' }, 105, 60); // 'grace'
 */
export function timeStatus(claims: TimeClaims, now: number, leeway: number): TimeStatus {
  requireSafeInteger(claims.iat, 'iat');
  requireSafeInteger(claims.nbf, 'nbf');
  requireEndClaims(claims);
  if (claims.rfa !== undefined) requireSafeInteger(claims.rfa, 'rfa');
  if (claims.access !== 'full' && claims.access !== 'trial') {
    throw new ConfigError(`access must be full or trial, got ${String(claims.access)}`);
  }
  requireSafeInteger(now, 'now');
  requireNonNegativeInteger(leeway, 'leeway');
  return timeStatusUnchecked(claims, now, leeway);
}

/**
 * {@link timeStatus} for inputs already known good: validated license claims, a safe
 * integer clock and a non-negative leeway (the verifier checks both once, in its settings
 * and its clock).
 */
export function timeStatusUnchecked(claims: TimeClaims, now: number, leeway: number): TimeStatus {
  // A token issued after its nbf is not valid before it was issued either.
  const validFrom = Math.max(claims.nbf, claims.iat);
  // validFrom − leeway and exp + grace may leave the safe range and be rounded, yet comparing
  // them with the safe integer `now` stays exact: rounding is monotone and ±2^53 are
  // representable, so a rounded sum never crosses a safe integer. The property test against a
  // BigInt model pins this.
  if (now < validFrom - leeway) return 'not_yet_valid';
  if (claims.exp !== undefined && now >= claims.exp) {
    return now >= claims.exp + (claims.grace ?? 0) ? 'expired' : 'grace';
  }
  if (claims.rfa !== undefined && now >= claims.rfa) return 'refresh_due';
  return claims.access === 'trial' ? 'trial' : 'active';
}

function requireEndClaims(claims: Pick<TimeClaims, 'exp' | 'grace'>): void {
  if (claims.exp !== undefined) requireSafeInteger(claims.exp, 'exp');
  if (claims.grace !== undefined) requireNonNegativeInteger(claims.grace, 'grace');
}
