import type { QuotaSpec } from '@licensekit/core';
import { quote, UsageError } from './errors.js';

// The claim model's rule for quota and entitlement names (core claims/checks.ts).
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const LIMIT = /^(\d{1,15})(?:\/(day|week|month|year))?$/;

const FORMS =
  'write NAME=LIMIT/PERIOD (exports=1000/month; PERIOD day, week, month or year), NAME=LIMIT for the whole term (storage=5000), or NAME=unlimited';

/** True for a valid quota or entitlement name: letters, digits and . _ : - (at most 64). */
export function isName(value: string): boolean {
  return NAME.test(value);
}

/**
 * Parses one `--quota` value: `exports=1000/month` (a limit per period from the billing
 * anchor), `storage=5000` (for the whole term) or `exports=unlimited` (the explicit form:
 * DESIGN.md never reads a missing limit as unlimited).
 *
 * @example parseQuota('exports=1000/month') // { name: 'exports', spec: { limit: 1000, per: 'month' } }
 * @throws UsageError that shows the accepted forms
 */
export function parseQuota(text: string, flag = '--quota'): { name: string; spec: QuotaSpec } {
  const value = text.trim();
  const equals = value.indexOf('=');
  if (equals < 0) throw new UsageError(`${flag} ${quote(text)} has no "="; ${FORMS}`);
  const name = value.slice(0, equals).trim();
  const amount = value.slice(equals + 1).trim();
  if (!isName(name)) {
    throw new UsageError(
      `${flag} ${quote(text)}: the quota name must be letters, digits and . _ : - (at most 64 characters)`,
    );
  }
  if (amount === 'unlimited') return { name, spec: { unlimited: true } };
  const match = LIMIT.exec(amount);
  if (match === null) throw new UsageError(`${flag} ${quote(text)} has no valid limit; ${FORMS}`);
  const limit = Number(match[1]);
  if (!Number.isSafeInteger(limit))
    throw new UsageError(`${flag} ${quote(text)}: the limit is too large`);
  const per = match[2] as 'day' | 'week' | 'month' | 'year' | undefined;
  if (per === undefined) return { name, spec: { limit } };
  if (name === 'seats') {
    throw new UsageError(
      `${flag} ${quote(text)}: seats count devices for the whole term and take no period; write seats=${limit} or --seats ${limit}`,
    );
  }
  return { name, spec: { limit, per } };
}

/**
 * Parses every `--quota` value (each may also hold several, comma-separated) and `--seats`
 * into the `quota` claim. A quota named twice is refused: which one was meant?
 */
export function parseQuotas(values: readonly string[], seats?: number): Record<string, QuotaSpec> {
  const quotas: Record<string, QuotaSpec> = {};
  const add = (name: string, spec: QuotaSpec, source: string) => {
    if (Object.hasOwn(quotas, name)) {
      throw new UsageError(`quota ${quote(name)} is given twice (${source}); give each quota once`);
    }
    Object.defineProperty(quotas, name, {
      value: spec,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  };
  for (const value of values) {
    for (const item of splitList(value)) {
      const { name, spec } = parseQuota(item);
      add(name, spec, '--quota');
    }
  }
  if (seats !== undefined) add('seats', { limit: seats }, '--seats and --quota seats=…');
  return quotas;
}

/** Splits a repeatable flag's value on commas (`--feature a,b` = `--feature a --feature b`). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
