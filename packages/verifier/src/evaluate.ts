import type { LicenseClaims } from '@licensekit/core';
import { timeStatusUnchecked } from '@licensekit/core';
import type { Accepted } from './acceptor.js';
import { STATE_MESSAGES } from './messages.js';
import type { RevocationView } from './revocations.js';
import type { StateData } from './state/state.js';
import { getOwn, setOwn } from './state/state.js';
import { Verdict } from './verdict.js';

export interface EvaluationContext {
  now: number;
  leeway: number;
  clockTolerance: number;
  product: string;
  /** Thumbprint of this device's key, when the app has one. */
  device: string | undefined;
  revocations: RevocationView | undefined;
  /** The `not_logged` verdict of the log-proof check (requireLogProof), made beforehand. */
  unlogged?: Verdict | undefined;
}

/**
 * The checks after the signature, in DESIGN.md order: not logged, revoked, wrong product,
 * wrong device, rolled back, clock tampered, then the time statuses. Pure over the state;
 * the caller runs it inside a state transaction so the marks it reads are current (the
 * log proof, which needs hashing and a signature check, is checked before it).
 */
export function evaluate(
  state: StateData,
  accepted: Accepted,
  context: EvaluationContext,
): Verdict {
  if (context.unlogged) return context.unlogged;
  const { claims } = accepted;
  const revoked = context.revocations?.match(accepted.kid, claims.sub, claims.jti);
  if (revoked) return new Verdict('revoked', revoked, STATE_MESSAGES.revoked);
  const binding = checkBinding(claims, context.product, context.device);
  if (binding) return binding;
  const highest = getOwn(state.licenses, claims.sub);
  if (highest !== undefined) {
    if (claims.seq < highest.seq) {
      return new Verdict('rolled_back', 'older_seq', STATE_MESSAGES.rolled_back);
    }
    if (claims.seq === highest.seq && hashed(accepted) !== highest.hash) {
      return new Verdict('rolled_back', 'same_seq_different_token', STATE_MESSAGES.rolled_back);
    }
  }
  if (context.now < state.highWater - context.clockTolerance) {
    return new Verdict('clock_tampered', 'clock_behind_high_water', STATE_MESSAGES.clock_tampered);
  }
  return timeVerdict(claims, context.now, context.leeway);
}

/**
 * Wrong product, then wrong device: the checks after the signature that need no state (the
 * compact entry's stateless verifier makes only these, then the time statuses).
 */
export function checkBinding(
  claims: LicenseClaims,
  product: string,
  device: string | undefined,
): Verdict | undefined {
  if (claims.aud !== product) return new Verdict('wrong_product', 'audience_mismatch');
  if (claims.cnf !== undefined) {
    if (device === undefined) return new Verdict('wrong_device', 'device_required');
    if (claims.cnf.jkt !== device) return new Verdict('wrong_device', 'device_mismatch');
  }
  return undefined;
}

/** The time status (not yet valid, expired, grace, refresh due, trial, active) as a verdict. */
export function timeVerdict(claims: LicenseClaims, now: number, leeway: number): Verdict {
  const status = timeStatusUnchecked(claims, now, leeway);
  return new Verdict(status, status);
}

/**
 * Seconds the high-water mark may lag behind the clock before it is written again, so a
 * file state is not rewritten on every check. Tamper detection loses at most this much.
 */
export const HIGH_WATER_STEP = 60;

/**
 * Moves the marks after a valid verification: the time high-water (never down; a token's
 * iat proves its time has been reached) and the license's highest accepted seq.
 * Returns whether the state changed.
 */
export function recordAcceptance(state: StateData, accepted: Accepted, now: number): boolean {
  let changed = false;
  const seen = Math.max(now, accepted.claims.iat);
  if (seen >= state.highWater + HIGH_WATER_STEP || state.highWater === 0) {
    state.highWater = Math.max(state.highWater, seen);
    changed = true;
  }
  const { sub, seq } = accepted.claims;
  const previous = getOwn(state.licenses, sub);
  if (previous === undefined || seq > previous.seq) {
    setOwn(state.licenses, sub, { seq, hash: hashed(accepted) });
    changed = true;
  }
  return changed;
}

/** The hash the caller computed before the transaction (hashOf); steps are synchronous. */
function hashed(accepted: Accepted): string {
  if (accepted.hash === undefined)
    throw new Error('internal: token hash not computed before evaluation');
  return accepted.hash;
}
