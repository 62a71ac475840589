import type { FastifyBaseLogger } from 'fastify';
import type { OperationsConfig } from '../config-operations.js';
import type { Db } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import type { Resolver } from '../lib/public-address.js';
import { publicAddressesOf, systemResolver } from '../lib/public-address.js';
import type { Secrets } from '../lib/secrets.js';
import { postPinned } from './webhook-pinned-post.js';
import { decryptEndpointSecret, webhookHeaders } from './webhooks.js';

/**
 * Delivery of the durable webhook outbox (rows written by emitEvent in the producer's
 * transaction). Everything lives in the table, so a restart loses nothing:
 *
 * - claim: one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) sets locked_until
 *   and counts the attempt, so several instances never hold the same message at once;
 *   a claim outlives the request timeout, so it cannot lapse while its POST is running,
 *   and a crashed instance's claims lapse by themselves.
 * - deliver: POST the payload with Standard Webhooks headers, 2xx = delivered. A vendor's
 *   endpoint is checked first, every time: its host must resolve to public addresses
 *   only, and the POST goes to those very addresses (no DNS rebinding into the
 *   operator's network); otherwise the attempt fails without a request.
 * - otherwise retry after the next delay of the schedule; past its end, give up
 *   (failed_at, last_error kept).
 *
 * The outcome is written only while the claim still holds (locked_until unchanged), so
 * a late writer can never overwrite another instance's result. Delivery is at least once
 * (a crash between the POST and its bookkeeping repeats the message): receivers dedupe
 * on webhook-id.
 */

export type WebhookSettings = OperationsConfig['webhooks'];

export interface ClaimedMessage {
  id: string;
  endpointId: string;
  type: string;
  body: string;
  /** Attempts including this one. */
  attempts: number;
  lockedUntil: Date;
  url: string;
  encryptedSecret: string;
  /** The vendor owning the endpoint; null = the operator's. */
  vendorId: string | null;
}

export type DeliveryResult = 'delivered' | 'retry' | 'failed';

/** Claims up to `limit` due messages for `lockMs`. */
export async function claimDue(
  db: Db,
  now: Date,
  limit: number,
  lockMs: number,
): Promise<ClaimedMessage[]> {
  const rows = await db.query<{
    id: string;
    endpoint_id: string;
    type: string;
    payload: unknown;
    attempts: number;
    locked_until: Date;
    url: string;
    secret: string;
    vendor_id: string | null;
  }>(
    `UPDATE webhook_outbox o SET locked_until = $2, attempts = o.attempts + 1
       FROM webhook_endpoints e
      WHERE e.id = o.endpoint_id AND o.id IN (
        SELECT id FROM webhook_outbox
         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
           AND (locked_until IS NULL OR locked_until < $1)
         ORDER BY created_at, id
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
      RETURNING o.id, o.endpoint_id, o.type, o.payload, o.attempts, o.locked_until, e.url, e.secret,
                e.vendor_id`,
    [now, new Date(now.getTime() + lockMs), limit],
  );
  return rows.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    type: row.type,
    body: typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
    attempts: row.attempts,
    lockedUntil: row.locked_until,
    url: row.url,
    encryptedSecret: row.secret,
    vendorId: row.vendor_id,
  }));
}

/** The delay before retry number `attempts` (1-based), or undefined to give up. */
export function retryDelay(
  schedule: readonly number[],
  attempts: number,
  jitter: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + jitter * random()));
}

export async function recordOutcome(
  db: Db,
  message: ClaimedMessage,
  outcome: { ok: true } | { ok: false; error: string; retryAt: Date | undefined },
  now: Date,
): Promise<DeliveryResult | 'lost_claim'> {
  const fence = [message.id, message.lockedUntil];
  let rows: unknown[];
  let result: DeliveryResult;
  if (outcome.ok) {
    result = 'delivered';
    rows = await db.query(
      `UPDATE webhook_outbox SET delivered_at = $3, locked_until = NULL, last_error = NULL
        WHERE id = $1 AND locked_until = $2 RETURNING id`,
      [...fence, now],
    );
  } else if (outcome.retryAt) {
    result = 'retry';
    rows = await db.query(
      `UPDATE webhook_outbox SET next_attempt_at = $3, locked_until = NULL, last_error = $4
        WHERE id = $1 AND locked_until = $2 RETURNING id`,
      [...fence, outcome.retryAt, outcome.error.slice(0, 500)],
    );
  } else {
    result = 'failed';
    rows = await db.query(
      `UPDATE webhook_outbox SET failed_at = $3, locked_until = NULL, last_error = $4
        WHERE id = $1 AND locked_until = $2 RETURNING id`,
      [...fence, now, outcome.error.slice(0, 500)],
    );
  }
  return rows.length > 0 ? result : 'lost_claim';
}

/**
 * Releases every claim (at the start of a store that alone uses its database): the
 * deliveries they stood for may or may not have reached the receiver, so they go out again
 * under the same webhook-id — at least once, as always.
 */
export async function releaseAllClaims(db: Db): Promise<void> {
  await db.query(
    `UPDATE webhook_outbox SET locked_until = NULL
      WHERE locked_until IS NOT NULL AND delivered_at IS NULL AND failed_at IS NULL`,
  );
}

/** Hands a claim back untouched (shutdown while its POST was running). */
async function release(db: Db, message: ClaimedMessage): Promise<void> {
  await db.query(
    `UPDATE webhook_outbox SET locked_until = NULL, attempts = attempts - 1
      WHERE id = $1 AND locked_until = $2`,
    [message.id, message.lockedUntil],
  );
}

export interface OutboxWorkerOptions {
  db: Db;
  clock: Clock;
  secrets: Secrets;
  log: FastifyBaseLogger;
  settings: WebhookSettings;
  /** Injectable for tests; default global fetch. */
  fetch?: typeof fetch;
  /** Resolves vendors' endpoint hosts; injectable for tests (no DNS there). */
  resolve?: Resolver;
  /** Called after each attempt (metrics). */
  onAttempt?: (result: DeliveryResult | 'lost_claim' | 'aborted') => void;
}

class ShutdownError extends Error {}

/**
 * The outcome a vendor reads for an endpoint refused at delivery: it names the rule, not
 * what the host resolved to nor anything about what listens there.
 */
export const NOT_PUBLIC_ERROR = 'not sent: the target is not a public address';

class NotPublicTarget extends Error {
  constructor() {
    super(NOT_PUBLIC_ERROR);
  }
}

/** `promise`, or the signal's abort, whichever comes first (a DNS lookup cannot be aborted). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The delivery loop of one instance: polls every pollIntervalMs, and `wake()` makes it
 * look at once (after a commit that wrote events). A poll drains: it claims batch after
 * batch until fewer than a batch are due.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly shutdown = new AbortController();

  constructor(private readonly options: OutboxWorkerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Look for due messages now (debounced: one extra pass at most). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops polling, aborts POSTs in flight (their claims are handed back) and waits. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.shutdown.abort();
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, delay);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped || this.running) return;
    this.running = (async () => {
      do {
        this.again = false;
        try {
          let claimed = this.options.settings.batchSize;
          while (!this.stopped && claimed >= this.options.settings.batchSize) {
            claimed = await this.runOnce();
          }
        } catch (error) {
          if (!this.stopped) this.options.log.error({ err: error }, 'webhook outbox poll failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
      if (!this.stopped) this.schedule(this.options.settings.pollIntervalMs);
    });
  }

  /** Claims one batch and delivers it; returns how many messages were claimed. */
  async runOnce(): Promise<number> {
    const { db, clock, settings } = this.options;
    const claimed = await claimDue(db, clock.now(), settings.batchSize, settings.lockMs);
    await Promise.all(claimed.map((message) => this.deliver(message)));
    return claimed.length;
  }

  private async deliver(message: ClaimedMessage): Promise<void> {
    const { db, clock, settings, log } = this.options;
    let outcome: { ok: true } | { ok: false; error: string; retryAt: Date | undefined };
    try {
      await this.post(message);
      outcome = { ok: true };
    } catch (error) {
      if (error instanceof ShutdownError) {
        await release(db, message).catch(() => undefined);
        this.options.onAttempt?.('aborted');
        return;
      }
      const delay = retryDelay(settings.retryScheduleMs, message.attempts, settings.retryJitter);
      const now = clock.now();
      outcome = {
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        retryAt: delay === undefined ? undefined : new Date(now.getTime() + delay),
      };
    }
    const result = await recordOutcome(db, message, outcome, clock.now());
    this.options.onAttempt?.(result);
    const fields = { message: message.id, endpoint: message.endpointId, type: message.type };
    if (result === 'delivered')
      log.debug({ ...fields, attempts: message.attempts }, 'webhook delivered');
    else if (!outcome.ok)
      log.warn(
        { ...fields, attempts: message.attempts, result, error: outcome.error },
        'webhook delivery failed',
      );
  }

  /**
   * The addresses a vendor's endpoint may be sent to, checked now (its DNS may have changed
   * since creation); undefined for the operator's endpoints, which may target anything.
   */
  private async vendorAddresses(
    message: ClaimedMessage,
    signal: AbortSignal,
  ): Promise<string[] | undefined> {
    if (message.vendorId === null || this.options.settings.vendorPrivateTargets) return undefined;
    const resolve = this.options.resolve ?? systemResolver;
    const addresses = await untilAborted(publicAddressesOf(new URL(message.url), resolve), signal);
    if (!addresses) throw new NotPublicTarget();
    return addresses;
  }

  private async post(message: ClaimedMessage): Promise<void> {
    const { clock, secrets, settings } = this.options;
    const secret = decryptEndpointSecret(secrets, message.endpointId, message.encryptedSecret);
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    const signal = AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), this.shutdown.signal]);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'licensekit-store-webhooks/1',
      ...webhookHeaders(secret, message.id, timestamp, message.body),
    };
    let status: number;
    try {
      const pinned = await this.vendorAddresses(message, signal);
      if (pinned) {
        status = await postPinned(new URL(message.url), pinned, {
          body: message.body,
          headers,
          signal,
        });
      } else {
        const response = await (this.options.fetch ?? fetch)(message.url, {
          method: 'POST',
          body: message.body,
          redirect: 'manual',
          signal,
          headers,
        });
        // The receiver's answer is not used; drop it without reading it into memory.
        await response.body?.cancel().catch(() => undefined);
        status = response.status;
      }
    } catch (error) {
      if (error instanceof NotPublicTarget) throw error;
      if (this.shutdown.signal.aborted) throw new ShutdownError('shutting down');
      if (signal.aborted) throw new Error(`timed out after ${settings.timeoutMs} ms`);
      // fetch wraps the socket's error (ECONNREFUSED …) as its cause; node:http does not.
      const cause = ((error as { cause?: unknown }).cause ?? error) as {
        code?: string;
        message?: string;
      };
      throw new Error(`request failed: ${cause.code ?? cause.message ?? (error as Error).message}`);
    }
    if (status < 200 || status > 299) {
      throw new Error(`HTTP ${status}`);
    }
  }
}
