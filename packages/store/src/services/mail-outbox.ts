import type { Db, Queryable } from '../db/client.js';
import { newId } from '../lib/ids.js';
import type { Secrets } from '../lib/secrets.js';
import { sealMailSecret } from './mail-sealing.js';

/**
 * The durable mail outbox (table mail_outbox, migration 0006). A mail is queued in the
 * transaction of the change it tells about — no commit, no mail; once committed it
 * survives restarts and is retried — and rendered only when it is sent
 * (services/mail-messages.ts), from its `data` (ids and terms, never a key or an address)
 * and the records those name. Claims work as the webhook outbox's: one UPDATE over
 * `FOR UPDATE SKIP LOCKED`, outcomes written only while the claim holds.
 */

export const MAIL_KINDS = [
  'receipt',
  'sign_in_link',
  'expiring_soon',
  'quota_low',
  'payment_failed',
  'plan_change_scheduled',
  'plan_change_applied',
  'key_replaced',
] as const;

export type MailKind = (typeof MAIL_KINDS)[number];

export interface NewMail {
  kind: MailKind;
  customerId: string;
  data: Record<string, unknown>;
  /** The one secret the mail carries, sealed in the row (see mail-sealing.ts). */
  secret?: { value: string; secrets: Secrets } | undefined;
  /** Not worth sending after this (a sign-in link's expiry). */
  expiresAt?: Date | undefined;
}

/** Queues a mail in the caller's transaction; returns its id. */
export async function queueMail(tx: Queryable, mail: NewMail, at: Date): Promise<string> {
  const id = newId('mail');
  const sealed = mail.secret ? sealMailSecret(mail.secret.secrets, id, mail.secret.value) : null;
  await tx.query(
    `INSERT INTO mail_outbox (id, kind, customer_id, data, sealed, created_at, next_attempt_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
    [id, mail.kind, mail.customerId, JSON.stringify(mail.data), sealed, at, mail.expiresAt ?? null],
  );
  return id;
}

export interface ClaimedMail {
  id: string;
  kind: MailKind;
  customerId: string;
  data: Record<string, unknown>;
  sealed: Uint8Array | null;
  createdAt: Date;
  expiresAt: Date | null;
  /** Attempts including this one. */
  attempts: number;
  lockedUntil: Date;
}

interface MailRow {
  id: string;
  kind: MailKind;
  customer_id: string;
  data: Record<string, unknown> | string;
  sealed: Uint8Array | null;
  created_at: Date;
  expires_at: Date | null;
  attempts: number;
  locked_until: Date;
}

/** Claims up to `limit` due mails for `lockMs`, oldest first. */
export async function claimDueMail(
  db: Db,
  now: Date,
  limit: number,
  lockMs: number,
): Promise<ClaimedMail[]> {
  const rows = await db.query<MailRow>(
    `UPDATE mail_outbox SET locked_until = $2, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM mail_outbox
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
           AND (locked_until IS NULL OR locked_until < $1)
         ORDER BY created_at, id
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
      RETURNING id, kind, customer_id, data, sealed, created_at, expires_at, attempts, locked_until`,
    [now, new Date(now.getTime() + lockMs), limit],
  );
  return rows
    .map((row) => ({
      id: row.id,
      kind: row.kind,
      customerId: row.customer_id,
      data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
      sealed: row.sealed,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      attempts: row.attempts,
      lockedUntil: row.locked_until,
    }))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
}

export type MailOutcome =
  | { sent: true }
  | { sent: false; error: string; retryAt: Date | undefined };

export type MailResult = 'sent' | 'retry' | 'failed' | 'lost_claim';

/**
 * Writes the outcome of an attempt while the claim still holds. Sent or given up, the
 * sealed secret is erased: the key or link is then only in the customer's mailbox.
 */
export async function recordMailOutcome(
  db: Db,
  mail: ClaimedMail,
  outcome: MailOutcome,
  now: Date,
): Promise<MailResult> {
  const fence = [mail.id, mail.lockedUntil];
  let rows: unknown[];
  let result: MailResult;
  if (outcome.sent) {
    result = 'sent';
    rows = await db.query(
      `UPDATE mail_outbox SET sent_at = $3, sealed = NULL, locked_until = NULL, last_error = NULL
        WHERE id = $1 AND locked_until = $2 RETURNING id`,
      [...fence, now],
    );
  } else if (outcome.retryAt) {
    result = 'retry';
    rows = await db.query(
      `UPDATE mail_outbox SET next_attempt_at = $3, locked_until = NULL, last_error = $4
        WHERE id = $1 AND locked_until = $2 RETURNING id`,
      [...fence, outcome.retryAt, outcome.error.slice(0, 500)],
    );
  } else {
    result = 'failed';
    rows = await db.query(
      `UPDATE mail_outbox SET failed_at = $3, sealed = NULL, locked_until = NULL, last_error = $4
        WHERE id = $1 AND locked_until = $2 RETURNING id`,
      [...fence, now, outcome.error.slice(0, 500)],
    );
  }
  return rows.length > 0 ? result : 'lost_claim';
}

/**
 * Releases every claim (at the start of a store that alone uses its database): a killed
 * store's sends may or may not have reached the server, so they go out again — at least
 * once, as webhooks.
 */
export async function releaseAllMailClaims(db: Db): Promise<void> {
  await db.query(
    `UPDATE mail_outbox SET locked_until = NULL
      WHERE locked_until IS NOT NULL AND sent_at IS NULL AND failed_at IS NULL`,
  );
}

/** Forgets mails sent or given up before `before` (their rows hold no secret by then). */
export async function pruneMailOutbox(db: Db, before: Date): Promise<void> {
  await db.query('DELETE FROM mail_outbox WHERE sent_at < $1 OR failed_at < $1', [before]);
}
