import { isIP } from 'node:net';
import type { StoreConfig } from '../config.js';
import { ConfigurationError } from '../config.js';

/**
 * Where the store's e-mail goes, from the environment:
 *
 * - `smtp`: `SMTP_URL` (smtp:// or smtps://, credentials in the URL) — production.
 * - `dev`: no `SMTP_URL` on a store that listens on loopback only and is not
 *   `NODE_ENV=production`: a real SMTP server runs in the store's process on 127.0.0.1 and
 *   keeps what it receives in memory, shown at /dev/mail. Mail carries license keys and
 *   sign-in links, so this never happens on a store others can reach.
 * - `off`: `LICENSEKIT_MAIL=off`, or no `SMTP_URL` where `dev` is not allowed. Mails are
 *   still queued with their change (so turning mail on later changes nothing else) and
 *   given up at once; the portal does not offer e-mail sign-in.
 */
export type MailMode = 'smtp' | 'dev' | 'off';

export interface MailSettings {
  mode: MailMode;
  /** The SMTP server (mode `smtp`). */
  smtpUrl: string | undefined;
  /** The From: of every mail (`LICENSEKIT_MAIL_FROM`). */
  from: string;
  /** Why mail is off (logged at start). */
  offReason: string | undefined;
  /** How often the mail worker looks for due mail (it is also woken after writes). */
  pollIntervalMs: number;
  /** Delay before each retry; after the last one a mail is given up. */
  retryScheduleMs: readonly number[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** 30 s, 2 min, 10 min, 1 h, 6 h, 24 h: seven attempts over about 31 hours. */
export const MAIL_RETRY_SCHEDULE_MS: readonly number[] = [
  30 * SECOND,
  2 * MINUTE,
  10 * MINUTE,
  HOUR,
  6 * HOUR,
  24 * HOUR,
];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function mailSettings(
  config: Pick<StoreConfig, 'host' | 'vendor' | 'publicUrl'>,
  env: NodeJS.ProcessEnv = process.env,
): MailSettings {
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]/i.test(smtpUrl)) {
    throw new ConfigurationError('SMTP_URL must be an smtp:// or smtps:// URL');
  }
  const switchedOff = env.LICENSEKIT_MAIL === 'off';
  const production = env.NODE_ENV === 'production';
  const loopbackOnly = LOOPBACK_HOSTS.has(config.host);
  let mode: MailMode;
  let offReason: string | undefined;
  if (switchedOff) {
    mode = 'off';
    offReason = 'LICENSEKIT_MAIL=off';
  } else if (smtpUrl !== undefined) {
    mode = 'smtp';
  } else if (production) {
    mode = 'off';
    offReason = 'no SMTP_URL (NODE_ENV=production)';
  } else if (!loopbackOnly) {
    mode = 'off';
    offReason = `no SMTP_URL, and the development mail server is only for a store on loopback (host ${config.host})`;
  } else {
    mode = 'dev';
  }
  const poll = env.LICENSEKIT_MAIL_POLL_MS;
  const pollIntervalMs = poll === undefined || poll === '' ? 2 * SECOND : Number(poll);
  if (!Number.isSafeInteger(pollIntervalMs) || pollIntervalMs < 1) {
    throw new ConfigurationError(
      `LICENSEKIT_MAIL_POLL_MS must be a whole number ≥ 1 (got ${poll})`,
    );
  }
  return {
    mode,
    smtpUrl: mode === 'smtp' ? smtpUrl : undefined,
    from: env.LICENSEKIT_MAIL_FROM || defaultFrom(config),
    offReason,
    pollIntervalMs,
    retryScheduleMs: MAIL_RETRY_SCHEDULE_MS,
  };
}

/** `"acme store" <no-reply@store.example>`: the public host, or localhost for an address. */
function defaultFrom(config: Pick<StoreConfig, 'vendor' | 'publicUrl'>): string {
  const host = new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, '');
  const domain = isIP(host) === 0 ? host : 'localhost';
  const name = `${config.vendor} store`.replace(/["\\\r\n]/g, '');
  return `"${name}" <no-reply@${domain}>`;
}
