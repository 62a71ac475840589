/**
 * The clock part of the store's configuration: a store may pretend it is another time
 * (`licensekit serve --now +2d`), so that an app and the store agree on a pretend time in
 * a walkthrough or an end-to-end test (examples/offline-app). Tokens signed on a pretend
 * clock carry pretend times: that must never happen on a store customers rely on, so the
 * setting is refused in production (NODE_ENV=production) and on a store that listens on
 * anything but loopback.
 */
import { ConfigurationError } from './config.js';

export interface ClockInput {
  /** The instant (ms since the epoch) the store's clock starts at; absent: the real clock. */
  now?: number | undefined;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The start of the store's pretend clock, or undefined for the real clock.
 * @throws ConfigurationError in production, off loopback, or for an impossible instant
 */
export function pretendNow(
  input: ClockInput,
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  if (input.now === undefined) return undefined;
  if (!Number.isSafeInteger(input.now) || input.now < 0) {
    throw new ConfigurationError('--now must be an instant after 1970 (whole milliseconds)');
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigurationError(
      '--now (a pretend clock) is for development and tests only, and NODE_ENV is production: tokens would carry pretend times; remove --now',
    );
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new ConfigurationError(
      `--now (a pretend clock) is only for a store on loopback, and this one listens on ${host}: tokens would carry pretend times; remove --now or listen on 127.0.0.1`,
    );
  }
  return input.now;
}
