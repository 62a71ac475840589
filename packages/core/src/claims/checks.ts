import { canonicalBase64urlLength, isBase64urlOfLength } from '../encoding/base64url.js';
import { ClaimError } from '../errors.js';

/**
 * Guard clauses shared by the claim validators. Each names the claim it rejects; none
 * coerces a value (a string "1700000000" is not a NumericDate).
 */

// Identifiers: vendor, license, product and plan ids. Printable, no control characters (Cc),
// so they can be shown, logged and used as lookup keys without escaping surprises. And
// well-formed: in a `u` regex \p{Cs} matches only an unpaired surrogate, which has no UTF-8
// encoding, so a token carrying one could be signed but never read back.
const IDENTIFIER = /^[^\p{Cc}\p{Cs}]{1,128}$/u;
// Printable ASCII, the usual case, is a subset of it that a regex without the u flag tests
// faster; anything else takes the full test.
const PRINTABLE_ASCII = /^[ -~]{1,128}$/;
// Entitlement and quota names are short machine names.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export const MAX_ENTITLEMENTS = 64;
export const MAX_QUOTAS = 32;

export function identifier(value: unknown, claim: string): string {
  if (typeof value !== 'string' || !(PRINTABLE_ASCII.test(value) || IDENTIFIER.test(value))) {
    throw new ClaimError(claim, 'must be 1 to 128 printable characters');
  }
  return value;
}

export function name(value: unknown, claim: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new ClaimError(claim, `must match ${NAME}`);
  }
  return value;
}

/**
 * The latest NumericDate accepted: 9999-12-31T23:59:59Z. Every time claim, and every sum
 * of them the arithmetic forms (exp + grace, period boundaries from an anchor), then stays
 * inside the calendar range, so validated claims can never make the arithmetic throw.
 */
export const MAX_NUMERIC_DATE = 253_402_300_799;

/** The longest grace period accepted: ten years, in seconds. */
export const MAX_GRACE = 10 * 366 * 86_400;

/** An integer claim within [min, max]; `what` completes "must be …". */
function integer(value: unknown, claim: string, min: number, max: number, what: string): number {
  // Number.isSafeInteger is false for anything but a number: no coercion.
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new ClaimError(claim, `must be ${what}`);
  }
  return value as number;
}

/** NumericDate (RFC 7519 §2): here always an integer number of seconds, 1970 to 9999. */
export function numericDate(value: unknown, claim: string): number {
  return integer(value, claim, 0, MAX_NUMERIC_DATE, 'an integer NumericDate, 1970 to 9999');
}

/** A duration in seconds between 0 and `max`. */
export function duration(value: unknown, claim: string, max: number): number {
  return integer(value, claim, 0, max, `whole seconds, 0 to ${max}`);
}

export function nonNegativeInteger(value: unknown, claim: string): number {
  return integer(value, claim, 0, Number.MAX_SAFE_INTEGER, 'a non-negative safe integer');
}

export function positiveInteger(value: unknown, claim: string): number {
  return integer(value, claim, 1, Number.MAX_SAFE_INTEGER, 'a positive safe integer');
}

/** Canonical base64url of exactly `bytes` bytes (hashes, thumbprints). */
export function digest(value: unknown, claim: string, bytes = 32): string {
  if (!isBase64urlOfLength(value, bytes)) {
    throw new ClaimError(claim, `must be canonical base64url of ${bytes} bytes`);
  }
  return value;
}

/** A plain object (not null, not an array). */
export function plainObject(value: unknown, claim: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClaimError(claim, 'must be an object');
  }
  return value as Record<string, unknown>;
}

/** A plain object with only the listed members (a typo in a claim is an error, not ignored). */
export function record(
  value: unknown,
  claim: string,
  allowed: readonly string[],
): Record<string, unknown> {
  plainObject(value, claim);
  for (const key of Object.keys(value as object)) {
    if (!allowed.includes(key)) throw new ClaimError(`${claim}.${key}`, 'is unknown');
  }
  return value as Record<string, unknown>;
}

export function oneOf<T extends string>(value: unknown, claim: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new ClaimError(claim, `must be one of ${options.join(', ')}`);
  }
  return value as T;
}

export function uniqueNames(value: unknown, claim: string, max: number): string[] {
  if (!Array.isArray(value)) throw new ClaimError(claim, 'must be an array');
  if (value.length > max) throw new ClaimError(claim, `must have at most ${max} entries`);
  const names: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const entry = name(value[i], `${claim}[${i}]`);
    // At most 64 entries: comparing with those before beats building a Set.
    if (names.includes(entry)) throw new ClaimError(claim, 'has a duplicate');
    names.push(entry);
  }
  return names;
}

export function has(object: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(object, key) && object[key] !== undefined;
}

/** A token id (jti): canonical base64url of 8 to 64 bytes (CWT carries it as `cti` bytes). */
export function tokenId(value: unknown, claim: string): string {
  if (typeof value === 'string' && value.length >= 11 && value.length <= 86) {
    const length = canonicalBase64urlLength(value);
    if (length >= 8 && length <= 64) return value;
  }
  throw new ClaimError(claim, 'must be canonical base64url of 8 to 64 bytes');
}
