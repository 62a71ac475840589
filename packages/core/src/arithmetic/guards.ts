/**
 * Guard clauses shared by the arithmetic modules. Every input of the arithmetic is an integer
 * (NumericDate seconds, minor units, counts); a fraction, NaN or an integer beyond 2^53 is a
 * programming error of the caller, so it raises a ConfigError naming the parameter.
 */
import { ConfigError } from '../errors.js';

/** `kind` qualifies "safe integer" in the message: "", "non-negative " or "positive ". */
function requireInteger(value: number, name: string, min: number, kind: string): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be a ${kind}safe integer, got ${String(value)}`);
  }
}

export function requireSafeInteger(value: number, name: string): void {
  requireInteger(value, name, Number.MIN_SAFE_INTEGER, '');
}

export function requireNonNegativeInteger(value: number, name: string): void {
  requireInteger(value, name, 0, 'non-negative ');
}

export function requirePositiveInteger(value: number, name: string): void {
  requireInteger(value, name, 1, 'positive ');
}
