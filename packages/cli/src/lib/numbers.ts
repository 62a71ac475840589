import { quote, UsageError } from './errors.js';

const COUNT = /^\d{1,15}$/;

/**
 * Parses a whole-number flag (`--days 30`, `--seats 3`, `--amount 5`, `--seq 7`).
 * @throws UsageError naming the flag when the value is not a whole number ≥ `min`
 */
export function parseCount(text: string, flag: string, min = 1): number {
  const value = text.trim();
  if (!COUNT.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(
      `${flag} ${quote(text)} is not a whole number${min > 0 ? ` of at least ${min}` : ''}; write e.g. ${flag} ${Math.max(min, 3)}`,
    );
  }
  return Number(value);
}
