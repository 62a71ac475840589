import { ConfigurationError } from './config.js';

/**
 * Settings of the store's operations part: webhook delivery, periodic jobs, attachments,
 * revocation lists. Defaults need no set-up; tests shorten the intervals.
 */
export interface OperationsConfig {
  webhooks: {
    /** Run the delivery worker in this instance. Default true. */
    enabled: boolean;
    /** How often the worker looks for due messages (it is also woken after writes). */
    pollIntervalMs: number;
    /**
     * Delay before each retry, in order; after the last one the message is given up
     * (failed_at). Default 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 12 h, 24 h: nine attempts
     * over about 43.5 hours.
     */
    retryScheduleMs: number[];
    /** Random extra delay, as a fraction of each retry delay (0.1 = up to +10 %). */
    retryJitter: number;
    /** Abort a delivery attempt after this long. */
    timeoutMs: number;
    /** Messages claimed per poll. */
    batchSize: number;
    /** How long a claim holds a message; must exceed timeoutMs. */
    lockMs: number;
    /**
     * Let vendors' endpoints target private addresses (loopback, private ranges, link-local,
     * localhost …), for development and tests with local receivers. Default off: a vendor
     * could otherwise make the store probe the operator's network (README "Outgoing
     * webhooks"). The operator's own endpoints may target anything either way.
     */
    vendorPrivateTargets: boolean;
  };
  jobs: {
    /** How often periodic jobs (expiring-soon notices) run; 0 = no timer. Default 1 hour. */
    intervalMs: number;
    /** license.expiring_soon goes out this many days before period_end. */
    expiringSoonDays: number;
  };
  attachments: {
    /** Largest upload the admin API accepts, bytes. Default 2 GiB. */
    maxUploadBytes: number;
    /** After a download spends a unit, the same license may fetch that file again (resume, ranges) for this long. */
    downloadGrantMs: number;
  };
  revocations: {
    /** `next` of a store-signed list: when a fresher list is promised. Default 1 day. */
    nextSeconds: number;
    /** A store-signed list older than this is re-signed on request. Default half a day. */
    maxAgeSeconds: number;
  };
}

export interface OperationsInput {
  webhooks?: Partial<OperationsConfig['webhooks']> | undefined;
  jobs?: Partial<OperationsConfig['jobs']> | undefined;
  attachments?: Partial<OperationsConfig['attachments']> | undefined;
  revocations?: Partial<OperationsConfig['revocations']> | undefined;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const DEFAULT_RETRY_SCHEDULE_MS = [
  5 * SECOND,
  30 * SECOND,
  2 * MINUTE,
  10 * MINUTE,
  HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
];

/** An on/off setting (on|true, off|false); undefined when unset. */
export function envSwitch(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new ConfigurationError(`${name} must be on or off (got ${value})`);
}

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new ConfigurationError(`${name} must be a whole number ≥ 0 (got ${value})`);
  }
  return number;
}

export function operationsConfig(
  input: OperationsInput = {},
  env: NodeJS.ProcessEnv = process.env,
): OperationsConfig {
  const webhooks = {
    enabled: input.webhooks?.enabled ?? env.LICENSEKIT_WEBHOOKS_ENABLED !== 'false',
    pollIntervalMs:
      input.webhooks?.pollIntervalMs ?? envNumber(env, 'LICENSEKIT_WEBHOOK_POLL_MS') ?? 2 * SECOND,
    retryScheduleMs: input.webhooks?.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    retryJitter: input.webhooks?.retryJitter ?? 0.1,
    timeoutMs: input.webhooks?.timeoutMs ?? 10 * SECOND,
    batchSize: input.webhooks?.batchSize ?? 20,
    lockMs: input.webhooks?.lockMs ?? 30 * SECOND,
    vendorPrivateTargets:
      input.webhooks?.vendorPrivateTargets ??
      envSwitch(env, 'LICENSEKIT_VENDOR_WEBHOOKS_PRIVATE') ??
      false,
  };
  if (webhooks.lockMs <= webhooks.timeoutMs) {
    throw new ConfigurationError('webhooks.lockMs must be longer than webhooks.timeoutMs');
  }
  if (webhooks.pollIntervalMs < 1)
    throw new ConfigurationError('webhooks.pollIntervalMs must be ≥ 1');
  return {
    webhooks,
    jobs: {
      intervalMs: input.jobs?.intervalMs ?? envNumber(env, 'LICENSEKIT_JOBS_INTERVAL_MS') ?? HOUR,
      expiringSoonDays: input.jobs?.expiringSoonDays ?? 7,
    },
    attachments: {
      maxUploadBytes:
        input.attachments?.maxUploadBytes ??
        envNumber(env, 'LICENSEKIT_ATTACHMENT_MAX_BYTES') ??
        2 * 1024 ** 3,
      downloadGrantMs: input.attachments?.downloadGrantMs ?? 24 * HOUR,
    },
    revocations: {
      nextSeconds: input.revocations?.nextSeconds ?? 86_400,
      maxAgeSeconds: input.revocations?.maxAgeSeconds ?? 43_200,
    },
  };
}
