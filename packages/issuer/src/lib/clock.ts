import { ConfigError } from '@licensekit/core';

/**
 * Every issuing call reads the time once, here, so a test (or a store replaying an order)
 * can pin it. Times are NumericDates (RFC 7519 §2), whole seconds since 1970.
 */

// 10^11 seconds is the year 5138, while Date.now() has been above 10^12 since 2001: a
// value in between is almost certainly milliseconds passed where seconds were meant.
const MILLISECONDS_SUSPECT = 100_000_000_000;

/**
 * Returns `now` checked as a NumericDate, or the current time in seconds when absent.
 * @throws ConfigError when `now` is not whole seconds
 */
export function numericDateNow(now: number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(now) || now < 0) {
    throw new ConfigError('now must be a NumericDate: whole seconds since 1970');
  }
  if (now >= MILLISECONDS_SUSPECT) {
    throw new ConfigError(
      `now (${now}) looks like milliseconds; pass seconds, e.g. Math.floor(Date.now() / 1000)`,
    );
  }
  return now;
}
