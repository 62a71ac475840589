import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors.js';
import { type ProrationInput, prorate } from './proration.js';

/** 1000 runs each; a time budget so a failing property reports instead of shrinking for ages. */
const RUNS = { numRuns: 1000, interruptAfterTimeLimit: 5_000, markInterruptAsFailure: true };
const DAY = 86_400;
const Y2200 = 7_258_118_400; // 2200-01-01T00:00:00Z

const price = fc.integer({ min: 0, max: 10 ** 9 });
/** A change somewhere around a billing period of up to ten years, including before and after it. */
const change = fc
  .record({
    periodStart: fc.integer({ min: 0, max: Y2200 }),
    length: fc.integer({ min: 1, max: 10 * 366 * DAY }),
    offset: fc.double({ min: -0.2, max: 1.2, noNaN: true }),
    oldPrice: price,
    newPrice: price,
  })
  .map(
    ({ periodStart, length, offset, oldPrice, newPrice }): ProrationInput => ({
      oldPrice,
      newPrice,
      periodStart,
      periodEnd: periodStart + length,
      now: periodStart + Math.round(length * offset),
    }),
  );

const reverse = (input: ProrationInput): ProrationInput => ({
  ...input,
  oldPrice: input.newPrice,
  newPrice: input.oldPrice,
});

describe('prorate properties', () => {
  test('is the exact quotient rounded half away from zero', () => {
    fc.assert(
      fc.property(change, (input) => {
        const charge = BigInt(prorate(input));
        const length = BigInt(input.periodEnd - input.periodStart);
        const left = BigInt(Math.min(Math.max(input.periodEnd - input.now, 0), Number(length)));
        const exact = BigInt(input.newPrice - input.oldPrice) * left; // charge ≈ exact / length
        // |charge − exact/length| ≤ 1/2, and a tie goes to the larger magnitude: a charge
        // half a unit above the exact quotient is a positive one rounded up, half below a
        // negative one rounded down.
        const error = 2n * (charge * length - exact);
        expect(error <= length && error >= -length).toBe(true);
        if (error === length) expect(exact > 0n).toBe(true);
        if (error === -length) expect(exact < 0n).toBe(true);
      }),
      RUNS,
    );
  });

  test('a tie goes away from zero, both ways (the property above rarely draws one)', () => {
    // 5 × 1/2 = 2.5 → 3; the downgrade that undoes it, −2.5 → −3.
    const tie = { oldPrice: 0, newPrice: 5, periodStart: 0, periodEnd: 2, now: 1 };
    expect(prorate(tie)).toBe(3);
    expect(prorate(reverse(tie))).toBe(-3);
    // 1,000 × 36/80 = 450 exactly: no rounding at all.
    expect(prorate({ oldPrice: 0, newPrice: 1000, periodStart: 0, periodEnd: 80, now: 44 })).toBe(
      450,
    );
  });

  test('is zero when nothing remains or the prices are equal', () => {
    fc.assert(
      fc.property(change, fc.integer({ min: 0, max: 10 * 366 * DAY }), (input, late) => {
        expect(prorate({ ...input, now: input.periodEnd + late })).toBe(0);
        expect(prorate({ ...input, newPrice: input.oldPrice })).toBe(0);
      }),
      RUNS,
    );
  });

  test('never exceeds the new price; an upgrade lies in [0, new − old], a downgrade mirrors it', () => {
    fc.assert(
      fc.property(change, (input) => {
        const charge = prorate(input);
        const difference = input.newPrice - input.oldPrice;
        expect(charge).toBeLessThanOrEqual(input.newPrice);
        expect(Number.isSafeInteger(charge)).toBe(true);
        if (difference >= 0) {
          expect(charge).toBeGreaterThanOrEqual(0);
          expect(charge).toBeLessThanOrEqual(difference);
        } else {
          expect(charge).toBeLessThanOrEqual(0);
          expect(charge).toBeGreaterThanOrEqual(difference);
        }
      }),
      RUNS,
    );
  });

  test('an upgrade and the reverse downgrade at the same instant cancel exactly', () => {
    fc.assert(
      fc.property(change, (input) => {
        const sum = prorate(input) + prorate(reverse(input));
        expect(Math.abs(sum)).toBeLessThanOrEqual(1);
        expect(sum).toBe(0);
      }),
      RUNS,
    );
  });

  test('charges the full difference at the start of the period (and before it)', () => {
    fc.assert(
      fc.property(change, fc.integer({ min: 0, max: 10 * 366 * DAY }), (input, early) => {
        const difference = input.newPrice - input.oldPrice;
        expect(prorate({ ...input, now: input.periodStart })).toBe(difference);
        expect(prorate({ ...input, now: input.periodStart - early })).toBe(difference);
      }),
      RUNS,
    );
  });

  test('an upgrade costs less (never more) the later it happens', () => {
    fc.assert(
      fc.property(change, fc.integer({ min: 0, max: 10 * 366 * DAY }), (input, delay) => {
        const upgrade = input.newPrice >= input.oldPrice ? input : reverse(input);
        expect(prorate({ ...upgrade, now: upgrade.now + delay })).toBeLessThanOrEqual(
          prorate(upgrade),
        );
      }),
      RUNS,
    );
  });
});

describe('prorate examples', () => {
  test('a $30 / 30-day plan bought 10 days before the cycle ends costs $10', () => {
    const input = {
      oldPrice: 0,
      newPrice: 3000,
      periodStart: 0,
      periodEnd: 30 * DAY,
      now: 20 * DAY,
    };
    expect(prorate(input)).toBe(1000);
    expect(prorate(reverse(input))).toBe(-1000);
  });

  test('an exact half cent rounds away from zero, both ways', () => {
    // 1 cent × 1 s / 2 s = 0.5 cent; 5 cents × 1 s / 2 s = 2.5 cents (not banker's 2).
    const half = { oldPrice: 0, newPrice: 1, periodStart: 0, periodEnd: 2, now: 1 };
    expect(prorate(half)).toBe(1);
    expect(prorate(reverse(half))).toBe(-1);
    expect(prorate({ ...half, newPrice: 5 })).toBe(3);
    expect(prorate({ ...half, oldPrice: 5, newPrice: 0 })).toBe(-3);
    // Below the half it rounds toward zero: 1 cent × 1 s / 3 s.
    expect(prorate({ ...half, periodEnd: 3, now: 2 })).toBe(0);
  });

  test('stays exact where price × seconds exceeds 2^53', () => {
    // (10^9 − 1) × (10 years − 1 s) is about 3.2e17; floating point would be off here.
    const length = 3650 * DAY;
    const input = { oldPrice: 1, newPrice: 10 ** 9, periodStart: 0, periodEnd: length, now: 1 };
    const exact =
      (BigInt(10 ** 9 - 1) * BigInt(length - 1) * 2n + BigInt(length)) / (2n * BigInt(length));
    expect(prorate(input)).toBe(Number(exact));
    expect(prorate(input)).toBe(999_999_996);
  });
});

describe('prorate misuse', () => {
  const base: ProrationInput = {
    oldPrice: 0,
    newPrice: 100,
    periodStart: 0,
    periodEnd: 10,
    now: 5,
  };
  test.each<[string, ProrationInput]>([
    ['a negative price', { ...base, oldPrice: -1 }],
    ['a fractional price', { ...base, newPrice: 99.5 }],
    ['an unsafe price', { ...base, newPrice: 2 ** 53 }],
    ['an empty period', { ...base, periodEnd: 0 }],
    ['a reversed period', { ...base, periodEnd: -10 }],
    ['a fractional now', { ...base, now: 5.5 }],
    ['a NaN start', { ...base, periodStart: Number.NaN }],
  ])('%s is a ConfigError', (_name, input) => {
    expect(() => prorate(input)).toThrow(ConfigError);
  });
});
