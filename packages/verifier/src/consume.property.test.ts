/**
 * Properties of the offline quota ledger, through the verifier, against an independent
 * model of the periods (DESIGN.md "Arithmetic that property tests must pin down"):
 * used never exceeds the limit across any interleaving of consumes and clock moves across
 * periods; remaining = limit − used; a new period starts at zero.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateTestKey, PRODUCT } from '../../../test/support/tokens.js';
import { createVerifier } from './index.js';
import { issueLicense, testClock, utc } from './testing/harness.js';

type Unit = 'day' | 'week' | 'month';

const DAY = 86_400;

/** The model: start of period `index` of the series from `anchor`, by plain calendar arithmetic. */
function modelStart(anchor: number, unit: Unit, index: number): number {
  if (unit === 'day') return anchor + index * DAY;
  if (unit === 'week') return anchor + index * 7 * DAY;
  const a = new Date(anchor * 1000);
  const secondOfDay = anchor - Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), a.getUTCDate()) / 1000;
  const first = new Date(Date.UTC(a.getUTCFullYear(), a.getUTCMonth() + index, 1));
  const lastDay = new Date(
    Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0),
  ).getUTCDate();
  const day = Math.min(a.getUTCDate(), lastDay);
  return Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), day) / 1000 + secondOfDay;
}

function modelIndex(anchor: number, unit: Unit, t: number): number {
  if (unit !== 'month') return Math.floor((t - anchor) / (unit === 'day' ? DAY : 7 * DAY));
  const a = new Date(anchor * 1000);
  const b = new Date(t * 1000);
  let index =
    (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth()) + 1;
  while (modelStart(anchor, unit, index) > t) index--;
  return index;
}

const UNIT_SECONDS: Record<Unit, number> = { day: DAY, week: 7 * DAY, month: 31 * DAY };

type Op = { kind: 'consume'; amount: number } | { kind: 'advance'; seconds: number };

function ops(unit: Unit) {
  return fc.array(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('consume' as const),
          amount: fc.integer({ min: 1, max: 4 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('advance' as const),
          // Mostly small steps, sometimes whole periods, sometimes several.
          seconds: fc.oneof(
            fc.integer({ min: 0, max: 3_600 }),
            fc.integer({ min: 0, max: 3 * UNIT_SECONDS[unit] }),
          ),
        }),
      },
    ),
    { maxLength: 30 },
  );
}

/** Anchors from 2024 to 2030, with month ends (28–31) over-represented for the clamping. */
const anchors = fc.oneof(
  fc.integer({ min: utc(2024, 1, 1), max: utc(2030, 1, 1) }),
  fc
    .record({
      year: fc.integer({ min: 2024, max: 2029 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 28, max: 31 }),
      second: fc.integer({ min: 0, max: DAY - 1 }),
    })
    .map(
      ({ year, month, day, second }) =>
        utc(year, month, Math.min(day, new Date(Date.UTC(year, month, 0)).getUTCDate())) + second,
    ),
);

async function runModel(
  unit: Unit,
  limit: number,
  anchor: number,
  startOffset: number,
  steps: Op[],
): Promise<void> {
  const issuer = generateTestKey();
  const clock = testClock(anchor + startOffset);
  const verifier = createVerifier({
    trust: { issuers: [issuer.jwk] },
    product: PRODUCT,
    clock: clock.read,
  });
  const { token } = issueLicense(issuer, 'cwt', {
    iat: anchor,
    nbf: anchor,
    exp: anchor + 10 * 366 * DAY,
    rfa: undefined,
    grace: undefined,
    quota: { q: { limit, per: unit } },
  });
  const model = new Map<number, number>();
  for (const step of steps) {
    const index = modelIndex(anchor, unit, clock.seconds);
    if (step.kind === 'advance') {
      clock.advance(step.seconds);
      const now = modelIndex(anchor, unit, clock.seconds);
      const view = (await verifier.verify(token)).quotas.q!;
      const used = model.get(now) ?? 0;
      // A period never visited before starts at zero.
      if (now !== index && !model.has(now)) expect(view.used).toBe(0);
      expect(view).toEqual({
        unlimited: false,
        limit,
        used,
        remaining: limit - used,
        resetsAt: new Date(modelStart(anchor, unit, now + 1) * 1000),
      });
      continue;
    }
    const before = model.get(index) ?? 0;
    const fits = before + step.amount <= limit;
    const result = await verifier.consume(token, 'q', step.amount);
    const after = fits ? before + step.amount : before;
    if (fits) model.set(index, after);
    expect(result.granted).toBe(fits);
    expect(result.reason).toBe(fits ? 'granted' : 'exhausted');
    expect(result.used).toBe(after);
    expect(result.used).toBeLessThanOrEqual(limit);
    expect(result.remaining).toBe(limit - after);
    expect(result.resetsAt).toEqual(new Date(modelStart(anchor, unit, index + 1) * 1000));
  }
}

describe('quota ledger properties', () => {
  it.each([
    ['day', 350],
    ['week', 150],
    ['month', 350],
  ] as const)(
    'per %s: consume matches the period model exactly (%i runs)',
    async (unit, numRuns) => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 8 }),
          anchors,
          fc.integer({ min: 0, max: UNIT_SECONDS[unit] }),
          ops(unit),
          (limit, anchor, startOffset, steps) => runModel(unit, limit, anchor, startOffset, steps),
        ),
        { numRuns },
      );
    },
    60_000,
  );

  it('with the clock also moved back (within and beyond the tolerance), no period is ever handed out twice (250 runs)', async () => {
    const TOLERANCE = DAY;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('consume' as const),
              amount: fc.integer({ min: 1, max: 3 }),
            }),
            fc.record({
              kind: fc.constant('move' as const),
              seconds: fc.integer({ min: -2 * TOLERANCE, max: 2 * DAY }),
            }),
          ),
          { maxLength: 40 },
        ),
        async (limit, steps) => {
          const anchor = utc(2026, 3, 1, 6);
          const issuer = generateTestKey();
          const clock = testClock(anchor + 3 * DAY);
          const verifier = createVerifier({
            trust: { issuers: [issuer.jwk] },
            product: PRODUCT,
            clock: clock.read,
            clockTolerance: TOLERANCE,
          });
          const { token } = issueLicense(issuer, 'jwt', {
            iat: anchor,
            nbf: anchor,
            exp: anchor + 400 * DAY,
            rfa: undefined,
            quota: { q: { limit, per: 'day' } },
          });
          const startIndex = modelIndex(anchor, 'day', clock.seconds);
          let highest = clock.seconds;
          let granted = 0;
          for (const step of steps) {
            if (step.kind === 'move') {
              // Never before the license starts, so the only refusals are quota and clock.
              clock.set(Math.max(anchor + 3 * DAY, clock.seconds + step.seconds));
              continue;
            }
            const result = await verifier.consume(token, 'q', step.amount);
            if (result.license.valid) highest = Math.max(highest, clock.seconds);
            if (result.granted) granted += step.amount;
            expect(['granted', 'exhausted', 'clock_tampered']).toContain(result.reason);
            expect(result.used).toBeLessThanOrEqual(limit);
            if (result.license.valid) expect(result.remaining).toBe(limit - result.used);
            // Every unit granted belongs to a period the clock has really reached.
            const periodsReached = modelIndex(anchor, 'day', highest) - startIndex + 1;
            expect(granted).toBeLessThanOrEqual(limit * periodsReached);
          }
        },
      ),
      { numRuns: 250 },
    );
  }, 60_000);
});
