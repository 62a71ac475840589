import type { StoreContext } from './context.js';
import { composeMail, UndeliverableMail } from './mail-messages.js';
import type { ClaimedMail, MailOutcome, MailResult } from './mail-outbox.js';
import { claimDueMail, pruneMailOutbox, recordMailOutcome } from './mail-outbox.js';
import type { MailSettings } from './mail-settings.js';
import { pruneSignIn } from './mail-sign-in.js';
import type { MailTransport } from './mail-transport.js';
import { retryDelay } from './outbox.js';

/**
 * Sends the mail outbox: a pass claims due mails a batch at a time and sends them one by
 * one; passes run one after another (never two at once in an instance; other instances
 * are kept off by the claims). A pass starts on every poll, on `wake()` after a request
 * that may have queued mail, and on `flush()`, which resolves when the pass it started (or
 * joined) is over — what tests and `licensekit` tools wait on.
 *
 * A mail that fails is retried on the settings' schedule (plus up to 10 % jitter), then
 * given up; so is one whose time is past (an expired sign-in link) or that cannot be
 * rendered any more. With mail off every due mail is given up at once. Log lines name the
 * mail and its kind, never its address or content.
 */

const BATCH = 10;
/** A claim outlives the transport's timeouts, so it cannot lapse while a send runs. */
const LOCK_MS = 90_000;
const JITTER = 0.1;
/** Sent and given-up rows are kept this long (without their secrets), then deleted. */
const RETENTION_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** How long stop() waits for a send in progress before leaving its claim to lapse. */
const STOP_GRACE_MS = 5_000;

export interface MailWorkerOptions {
  ctx: Pick<StoreContext, 'db' | 'clock' | 'config' | 'secrets' | 'log'>;
  settings: MailSettings;
  /** undefined: mail is off, every due mail is given up. */
  transport: MailTransport | undefined;
}

export class MailWorker {
  #chain: Promise<void> = Promise.resolve();
  #queued = false;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  #prunedAt = Number.NEGATIVE_INFINITY;
  readonly #messageIdDomain: string;

  constructor(private readonly options: MailWorkerOptions) {
    this.#messageIdDomain =
      /@([^>\s]+)>?\s*$/.exec(options.settings.from)?.[1] ??
      new URL(options.ctx.config.publicUrl).hostname;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#timer = setInterval(() => this.wake(), this.options.settings.pollIntervalMs);
    this.#timer.unref();
    this.wake();
  }

  /** Look for due mail now (a pass already waiting to start covers this call too). */
  wake(): void {
    if (!this.#stopped) void this.#pass();
  }

  /** Sends what is due now; resolves when that pass is over. */
  flush(): Promise<void> {
    return this.#pass();
  }

  /** Stops polling and waits (a little) for the pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#chain,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  #pass(): Promise<void> {
    if (!this.#queued) {
      this.#queued = true;
      this.#chain = this.#chain.then(async () => {
        this.#queued = false;
        try {
          await this.#drain();
        } catch (error) {
          if (!this.#stopped) this.options.ctx.log.warn({ err: error }, 'mail outbox pass failed');
        }
      });
    }
    return this.#chain;
  }

  async #drain(): Promise<void> {
    const { db, clock } = this.options.ctx;
    for (;;) {
      const claimed = await claimDueMail(db, clock.now(), BATCH, LOCK_MS);
      for (const mail of claimed) await this.#deliver(mail);
      if (claimed.length < BATCH) break;
    }
    const now = clock.now();
    if (now.getTime() - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = now.getTime();
      await pruneMailOutbox(db, new Date(now.getTime() - RETENTION_MS));
      await pruneSignIn(db, now);
    }
  }

  async #deliver(mail: ClaimedMail): Promise<void> {
    const { ctx, settings, transport } = this.options;
    const now = ctx.clock.now();
    let outcome: MailOutcome;
    let errorCode: string | undefined;
    if (mail.expiresAt !== null && mail.expiresAt <= now) {
      outcome = { sent: false, error: 'expired before it could be sent', retryAt: undefined };
    } else if (transport === undefined) {
      outcome = { sent: false, error: `e-mail is off: ${settings.offReason}`, retryAt: undefined };
    } else {
      try {
        const message = await composeMail(ctx, mail);
        await transport.send({
          ...message,
          from: settings.from,
          messageId: `<${mail.id}@${this.#messageIdDomain}>`,
          date: now,
        });
        outcome = { sent: true };
      } catch (error) {
        errorCode = (error as { code?: unknown }).code?.toString();
        outcome = {
          sent: false,
          error: error instanceof Error ? error.message : String(error),
          retryAt: error instanceof UndeliverableMail ? undefined : this.#retryAt(mail, now),
        };
      }
    }
    const result = await recordMailOutcome(ctx.db, mail, outcome, ctx.clock.now());
    this.#report(mail, result, errorCode);
  }

  /** When to try again, or undefined to give up (schedule over, or past the mail's time). */
  #retryAt(mail: ClaimedMail, now: Date): Date | undefined {
    const delay = retryDelay(this.options.settings.retryScheduleMs, mail.attempts, JITTER);
    if (delay === undefined) return undefined;
    const at = new Date(now.getTime() + delay);
    return mail.expiresAt !== null && at >= mail.expiresAt ? undefined : at;
  }

  #report(mail: ClaimedMail, result: MailResult, errorCode: string | undefined): void {
    const fields = { mail: mail.id, kind: mail.kind, attempts: mail.attempts, result };
    const { log } = this.options.ctx;
    if (result === 'sent') log.info(fields, 'mail sent');
    // The error text stays in the outbox row (last_error): SMTP replies quote addresses.
    else log.warn({ ...fields, code: errorCode }, 'mail not sent');
  }
}
