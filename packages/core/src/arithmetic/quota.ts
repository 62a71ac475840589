/**
 * Quota accounting (DESIGN.md "Claims" `quota`, "Verifier state"): which window a use is
 * counted in, what remains, and whether a use fits.
 *
 * A quota is either `{ limit, per? }` or the explicit `{ unlimited: true }`. A spec with
 * neither a valid limit nor `unlimited: true` is rejected, never read as unlimited: a
 * malformed quota must fail closed.
 */
import { ConfigError } from '../errors.js';
import { requireNonNegativeInteger, requirePositiveInteger, requireSafeInteger } from './guards.js';
import { type PeriodUnit, periodAtUnchecked, requirePeriodUnit } from './periods.js';

export type QuotaSpec = { limit: number; per?: PeriodUnit | undefined } | { unlimited: true };

/**
 * The window usage is counted in: [start, end). `end` undefined means no reset within the
 * term (a whole-term quota of a perpetual license).
 */
export interface QuotaWindow {
  start: number;
  end: number | undefined;
}

/** Outcome of {@link tryConsume}: the counter after the attempt and what is left. */
export interface Consumption {
  granted: boolean;
  used: number;
  remaining: number;
}

/**
 * The counting window of a quota at `now`. A `per` quota counts per period of the series
 * anchored at `anchor` (the `anchor` claim, default `nbf`); a quota without `per` (and an
 * unlimited one) counts over the whole term [termStart, termEnd).
 *
 * @example
 * quotaWindow({ limit: 100, per: 'month' }, anchor, nbf, exp, now); // { start, end } of now's month
 */
export function quotaWindow(
  spec: QuotaSpec,
  anchor: number,
  termStart: number,
  termEnd: number | undefined,
  now: number,
): QuotaWindow {
  requireQuotaSpec(spec);
  requireSafeInteger(anchor, 'anchor');
  requireSafeInteger(termStart, 'termStart');
  if (termEnd !== undefined) {
    requireSafeInteger(termEnd, 'termEnd');
    if (termEnd <= termStart) throw new ConfigError('termEnd must be after termStart');
  }
  requireSafeInteger(now, 'now');
  return quotaWindowUnchecked(spec, anchor, termStart, termEnd, now);
}

/**
 * {@link quotaWindow} for inputs already known good: a validated license's quota and
 * instants, and a clock inside the calendar range.
 */
export function quotaWindowUnchecked(
  spec: QuotaSpec,
  anchor: number,
  termStart: number,
  termEnd: number | undefined,
  now: number,
): QuotaWindow {
  if ('limit' in spec && spec.per !== undefined) {
    const { start, end } = periodAtUnchecked(anchor, spec.per, now);
    return { start, end };
  }
  return { start: termStart, end: termEnd };
}

/**
 * What is left of a quota after `used` units in the current window: `Infinity` when
 * unlimited, otherwise limit − used, and 0 (never negative) if a lowered limit is already
 * overrun.
 */
export function quotaRemaining(spec: QuotaSpec, used: number): number {
  requireQuotaSpec(spec);
  requireNonNegativeInteger(used, 'used');
  return quotaRemainingUnchecked(spec, used);
}

/** {@link quotaRemaining} for a validated quota and a stored, checked count. */
export function quotaRemainingUnchecked(spec: QuotaSpec, used: number): number {
  return 'limit' in spec ? Math.max(0, spec.limit - used) : Number.POSITIVE_INFINITY;
}

/**
 * Tries to use `amount` more units in the current window. All or nothing: a use that would
 * take the counter past the limit is refused and leaves `used` unchanged, so `used` never
 * exceeds the limit through this function.
 *
 * @example
 * tryConsume({ limit: 10 }, 8, 3); // { granted: false, used: 8, remaining: 2 }
 * @throws ConfigError when `amount` is not a positive safe integer.
 */
export function tryConsume(spec: QuotaSpec, used: number, amount: number): Consumption {
  requireQuotaSpec(spec);
  requireNonNegativeInteger(used, 'used');
  requirePositiveInteger(amount, 'amount');
  if (!('limit' in spec)) {
    const total = used + amount;
    requireSafeInteger(total, 'used + amount');
    return { granted: true, used: total, remaining: Number.POSITIVE_INFINITY };
  }
  // `limit − used` is exact for non-negative safe integers; `used + amount` might not be.
  if (amount > spec.limit - used) {
    return { granted: false, used, remaining: Math.max(0, spec.limit - used) };
  }
  const total = used + amount;
  return { granted: true, used: total, remaining: spec.limit - total };
}

function requireQuotaSpec(spec: QuotaSpec): void {
  // Exactly one of `limit` and `unlimited: true`; one message for every other shape.
  const wellShaped =
    typeof spec === 'object' &&
    spec !== null &&
    ('limit' in spec ? !('unlimited' in spec) : spec.unlimited === true);
  if (!wellShaped) throw new ConfigError('quota must be { limit, per? } or { unlimited: true }');
  if ('limit' in spec) {
    requireNonNegativeInteger(spec.limit, 'quota.limit');
    if (spec.per !== undefined) requirePeriodUnit(spec.per, 'quota.per');
  }
}
