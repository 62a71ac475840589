/**
 * Guard clauses shared by the arithmetic modules. Every input of the arithmetic is an integer
 * (NumericDate seconds, minor units, counts); a fraction, NaN or an integer beyond 2^53 is a
 * programming error of the caller, so it raises a ConfigError naming the parameter.
 */
import { ConfigError } from '../errors.js';

export function requireSafeInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new ConfigError(`${name} must be a safe integer, got ${String(value)}`);
  }
}

export function requireNonNegativeInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

export function requirePositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive safe integer, got ${String(value)}`);
  }
}
