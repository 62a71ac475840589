/**
 * Shared helpers of the verifier's tests: a controllable clock, licenses and their
 * lineage (seq, prev) signed through the test-token factory, and a state whose marks a
 * test can read. Test-only: nothing here is exported by the package.
 */
import { createHash } from 'node:crypto';
import type { LicenseClaims, TokenFormat } from '@licensekit/core';
import {
  licenseClaims,
  type Overrides,
  signLicense,
  T0,
  type TestKey,
  tokenBytes,
} from '../../../../test/support/tokens.js';
import { memoryState } from '../state/memory.js';
import type { StateData, StateStore } from '../state/state.js';
import { emptyState } from '../state/state.js';

/** A clock in whole seconds that the test moves by hand; `read` is the verifier's `clock`. */
export interface TestClock {
  /** Current time, NumericDate seconds. */
  seconds: number;
  readonly read: () => number;
  set(seconds: number): void;
  advance(seconds: number): void;
}

export function testClock(start: number = T0): TestClock {
  const clock: TestClock = {
    seconds: start,
    read: () => clock.seconds * 1000,
    set(seconds) {
      clock.seconds = seconds;
    },
    advance(seconds) {
      clock.seconds += seconds;
    },
  };
  return clock;
}

/** base64url SHA-256 of a token's own bytes: the `prev` of its successor (computed independently of core). */
export function hashOf(token: string): string {
  return createHash('sha256').update(tokenBytes(token)).digest('base64url');
}

export interface Issued {
  token: string;
  claims: LicenseClaims;
}

export interface IssueOptions {
  /** Issuer certificate to embed. */
  certificate?: string;
}

/** A seq-0 license (the factory's defaults: term T0 … T0 + 30 days) signed by `key`. */
export function issueLicense(
  key: TestKey,
  format: TokenFormat,
  overrides: Overrides<LicenseClaims> = {},
  options: IssueOptions = {},
): Issued {
  const claims = licenseClaims(overrides);
  const sign =
    options.certificate === undefined ? { format } : { format, certificate: options.certificate };
  return { token: signLicense(key, claims, sign), claims };
}

/** The next token of `previous`'s lineage: seq + 1, prev = hash of previous, a fresh jti. */
export function renewLicense(
  key: TestKey,
  format: TokenFormat,
  previous: Issued,
  overrides: Overrides<LicenseClaims> = {},
  options: IssueOptions = {},
): Issued {
  const base: Overrides<LicenseClaims> = {
    ...previous.claims,
    seq: previous.claims.seq + 1,
    prev: hashOf(previous.token),
  };
  delete base.jti;
  return issueLicense(key, format, { ...base, ...overrides }, options);
}

/**
 * A memory state whose data the test can read: memoryState keeps the very object it is
 * given when the product matches, so `data` is always the state the verifier sees.
 */
export function inspectableState(product: string): { store: StateStore; data: StateData } {
  const data = emptyState(product);
  return { store: memoryState(data), data };
}

/** A deep copy of the marks, to compare before and after a check. */
export function marks(data: StateData): StateData {
  return structuredClone(data);
}

/** Seconds of a UTC calendar instant (month is 1-based). */
export function utc(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  return Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
}
