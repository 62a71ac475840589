import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors.js';
import {
  graceEndsAt,
  type TimeClaims,
  type TimeStatus,
  timeStatus,
  timeStatusRank,
} from './timeline.js';

/**
 * Runs per property, with a time budget. A counterexample that couples two instants (now
 * within the leeway of exp, say) shrinks one value at a time and can take millions of steps;
 * the budget reports it unshrunk instead of hanging. Running out of time before 1000 runs is a
 * failure too, so a slow machine cannot pass a property on fewer runs.
 */
const RUNS = { numRuns: 1000, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: true };
const Y2200 = 7_258_118_400; // 2200-01-01T00:00:00Z
const TEN_YEARS = 10 * 366 * 86_400;
const STATUSES: readonly TimeStatus[] = [
  'not_yet_valid',
  'expired',
  'grace',
  'refresh_due',
  'trial',
  'active',
];

const instant = fc.integer({ min: 0, max: Y2200 });
const duration = fc.integer({ min: 0, max: TEN_YEARS });
const leeway = fc.integer({ min: 0, max: 3600 });
const access = fc.constantFrom<'full' | 'trial'>('full', 'trial');

/**
 * Claims are instants around a common base, so they interleave in every order (rfa after
 * exp, nbf after exp) and shrink toward each other rather than toward 1970.
 */
const offset = fc.integer({ min: -TEN_YEARS, max: TEN_YEARS });
const anyClaims: fc.Arbitrary<TimeClaims> = fc
  .record({
    base: fc.integer({ min: TEN_YEARS, max: Y2200 - TEN_YEARS }),
    iat: offset,
    nbf: offset,
    exp: fc.option(offset, { nil: undefined }),
    grace: fc.option(duration, { nil: undefined }),
    rfa: fc.option(offset, { nil: undefined }),
    access,
  })
  .map(({ base, iat, nbf, exp, grace, rfa, access }) => ({
    iat: base + iat,
    nbf: base + nbf,
    exp: exp === undefined ? undefined : base + exp,
    grace,
    rfa: rfa === undefined ? undefined : base + rfa,
    access,
  }));

/**
 * A reading time, usually within two hours of one of the boundaries of the claims (where
 * off-by-one and leeway mistakes live), sometimes anywhere.
 */
type Reading = { near: 'validFrom' | 'exp' | 'graceEnd' | 'rfa' | 'anywhere'; delta: number };
const reading: fc.Arbitrary<Reading> = fc.record({
  near: fc.constantFrom<Reading['near']>('validFrom', 'exp', 'graceEnd', 'rfa', 'anywhere'),
  delta: fc.oneof(fc.integer({ min: -7200, max: 7200 }), offset),
});
function readingTime(claims: TimeClaims, { near, delta }: Reading): number {
  const boundary = {
    validFrom: Math.max(claims.nbf, claims.iat),
    exp: claims.exp,
    graceEnd: claims.exp === undefined ? undefined : claims.exp + (claims.grace ?? 0),
    rfa: claims.rfa,
    anywhere: undefined,
  }[near];
  return (boundary ?? claims.nbf) + delta;
}

/** Well-ordered claims as an issuer writes them: iat ≤ nbf ≤ rfa ≤ exp. */
const issuedClaims = fc
  .record({
    iat: instant,
    toNbf: duration,
    term: fc.integer({ min: 1, max: TEN_YEARS }),
    rfaShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    grace: duration,
    access,
  })
  .map(({ iat, toNbf, term, rfaShare, grace, access }): TimeClaims & { exp: number } => {
    const nbf = iat + toNbf;
    const exp = nbf + term;
    const rfa = rfaShare === undefined ? undefined : nbf + Math.floor(term * rfaShare);
    return { iat, nbf, exp, grace, rfa, access };
  });

/** The DESIGN.md rules evaluated in BigInt, so no intermediate can lose precision. */
function referenceStatus(claims: TimeClaims, now: number, leewaySeconds: number): TimeStatus {
  const t = BigInt(now);
  const validFrom = BigInt(Math.max(claims.nbf, claims.iat));
  if (t < validFrom - BigInt(leewaySeconds)) return 'not_yet_valid';
  if (claims.exp !== undefined) {
    const exp = BigInt(claims.exp);
    const end = exp + BigInt(claims.grace ?? 0);
    if (t >= end) return 'expired';
    if (t >= exp) return 'grace';
  }
  if (claims.rfa !== undefined && t >= BigInt(claims.rfa)) return 'refresh_due';
  return claims.access === 'trial' ? 'trial' : 'active';
}

describe('timeStatus properties', () => {
  test('is total and exact for any safe integers, even where exp + grace overflows 2^53', () => {
    const safe = fc.maxSafeInteger();
    const safeDuration = fc.maxSafeNat();
    const edgeClaims = fc.record({
      iat: safe,
      nbf: safe,
      exp: fc.option(safe, { nil: undefined }),
      grace: fc.option(safeDuration, { nil: undefined }),
      rfa: fc.option(safe, { nil: undefined }),
      access,
    });
    fc.assert(
      fc.property(edgeClaims, safe, safeDuration, (claims, now, skew) => {
        const status = timeStatus(claims, now, skew);
        expect(STATUSES).toContain(status);
        expect(status).toBe(referenceStatus(claims, now, skew));
      }),
      RUNS,
    );
  });

  test('matches the rules on realistic claims', () => {
    fc.assert(
      fc.property(anyClaims, reading, leeway, (claims, at, skew) => {
        const now = readingTime(claims, at);
        expect(timeStatus(claims, now, skew)).toBe(referenceStatus(claims, now, skew));
      }),
      RUNS,
    );
  });

  test('is monotone in time: the rank never decreases as now grows, for any claims', () => {
    fc.assert(
      fc.property(
        anyClaims,
        leeway,
        fc.array(reading, { minLength: 2, maxLength: 12 }),
        (claims, skew, readings) => {
          const ranks = readings
            .map((at) => readingTime(claims, at))
            .sort((a, b) => a - b)
            .map((now) => timeStatusRank(timeStatus(claims, now, skew)));
          for (let i = 1; i < ranks.length; i++) {
            expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1]!);
          }
        },
      ),
      RUNS,
    );
  });

  test('expires exactly at exp + grace', () => {
    fc.assert(
      fc.property(issuedClaims, leeway, (claims, skew) => {
        const end = graceEndsAt(claims)!;
        expect(end).toBe(claims.exp + (claims.grace ?? 0));
        expect(timeStatus(claims, end, skew)).toBe('expired');
        expect(timeStatus(claims, end - 1, skew)).not.toBe('expired');
        const lastValid: TimeStatus = claims.grace
          ? 'grace'
          : claims.rfa !== undefined && claims.rfa < end
            ? 'refresh_due'
            : claims.access === 'trial'
              ? 'trial'
              : 'active';
        expect(timeStatus(claims, end - 1, skew)).toBe(lastValid);
      }),
      RUNS,
    );
  });

  test('reports grace only inside [exp, exp + grace)', () => {
    fc.assert(
      fc.property(anyClaims, reading, leeway, (claims, at, skew) => {
        const now = readingTime(claims, at);
        const inGrace =
          claims.exp !== undefined &&
          claims.exp <= now &&
          now < claims.exp + (claims.grace ?? 0) &&
          timeStatus(claims, now, skew) !== 'not_yet_valid';
        expect(timeStatus(claims, now, skew) === 'grace').toBe(inGrace);
      }),
      RUNS,
    );
  });

  test('never reports refresh_due at or after exp', () => {
    fc.assert(
      fc.property(anyClaims, reading, leeway, (claims, at, skew) => {
        const now = readingTime(claims, at);
        if (timeStatus(claims, now, skew) === 'refresh_due' && claims.exp !== undefined) {
          expect(now).toBeLessThan(claims.exp);
        }
      }),
      RUNS,
    );
  });

  test('a perpetual license (no exp) never expires nor enters grace', () => {
    fc.assert(
      fc.property(anyClaims, reading, leeway, (claims, at, skew) => {
        const now = readingTime(claims, at);
        const perpetual = { ...claims, exp: undefined };
        expect(['expired', 'grace']).not.toContain(timeStatus(perpetual, now, skew));
        expect(graceEndsAt(perpetual)).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe('timeStatus examples', () => {
  // A 30-day term from 1_700_000_000, refresh after 20 days, 7 days of grace.
  const day = 86_400;
  const nbf = 1_700_000_000;
  const claims: TimeClaims = {
    iat: nbf - 10,
    nbf,
    exp: nbf + 30 * day,
    rfa: nbf + 20 * day,
    grace: 7 * day,
    access: 'full',
  };

  test.each<[number, TimeStatus]>([
    [nbf - 61, 'not_yet_valid'],
    [nbf - 60, 'active'], // within the 60 s leeway
    [nbf, 'active'],
    [nbf + 20 * day - 1, 'active'],
    [nbf + 20 * day, 'refresh_due'],
    [nbf + 30 * day - 1, 'refresh_due'],
    [nbf + 30 * day, 'grace'], // no leeway on exp
    [nbf + 37 * day - 1, 'grace'],
    [nbf + 37 * day, 'expired'],
  ])('at %i the status is %s', (now, status) => {
    expect(timeStatus(claims, now, 60)).toBe(status);
  });

  test('uses max(nbf, iat) as the start: a token issued after its nbf', () => {
    const late = { ...claims, iat: nbf + 100 };
    expect(timeStatus(late, nbf + 50, 0)).toBe('not_yet_valid');
    expect(timeStatus(late, nbf + 100, 0)).toBe('active');
  });

  test('reports trial for trial access, and exp without grace expires at exp', () => {
    const trial: TimeClaims = { iat: 0, nbf: 0, exp: 100, access: 'trial' };
    expect(timeStatus(trial, 99, 0)).toBe('trial');
    expect(timeStatus(trial, 100, 0)).toBe('expired');
    expect(graceEndsAt(trial)).toBe(100);
  });

  test('stays exact at the edge of the safe range, where exp + grace is beyond 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const late: TimeClaims = { iat: 0, nbf: 0, exp: max - 1, grace: max, access: 'full' };
    expect(timeStatus(late, max, 0)).toBe('grace');
    expect(timeStatus(late, max - 2, 0)).toBe('active');
    const early: TimeClaims = { iat: -max, nbf: -max, access: 'full' };
    expect(timeStatus(early, -max, max)).toBe('active');
  });

  test('ranks statuses along the timeline', () => {
    expect(STATUSES.map(timeStatusRank)).toEqual([0, 4, 3, 2, 1, 1]);
  });
});

describe('timeStatus misuse', () => {
  const base: TimeClaims = { iat: 0, nbf: 0, exp: 100, access: 'full' };
  test.each<[string, () => unknown]>([
    ['fractional now', () => timeStatus(base, 1.5, 0)],
    ['NaN now', () => timeStatus(base, Number.NaN, 0)],
    ['negative leeway', () => timeStatus(base, 0, -1)],
    ['unsafe exp', () => timeStatus({ ...base, exp: 2 ** 53 }, 0, 0)],
    ['negative grace', () => timeStatus({ ...base, grace: -1 }, 0, 0)],
    ['fractional rfa', () => timeStatus({ ...base, rfa: 0.5 }, 0, 0)],
    ['unknown access', () => timeStatus({ ...base, access: 'free' as 'full' }, 0, 0)],
    ['unknown status', () => timeStatusRank('valid' as TimeStatus)],
    ['grace end beyond 2^53', () => graceEndsAt({ exp: Number.MAX_SAFE_INTEGER, grace: 1 })],
  ])('%s is a ConfigError', (_name, misuse) => {
    expect(misuse).toThrow(ConfigError);
  });
});
