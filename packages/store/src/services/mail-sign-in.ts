import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import type { Db, Queryable } from '../db/client.js';
import { clientKey } from '../lib/failure-limiter.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { LICENSE_COLUMNS, toLicense } from '../repositories/licenses.js';
import type { StoreContext } from './context.js';
import { queueMail } from './mail-outbox.js';

/**
 * Signing in to the portal with an e-mail link (a "magic link"), for a customer who lost
 * their license key. The link's token is 256 random bits, stored only as a keyed hash,
 * accepted once (one UPDATE sets used_at) and for 15 minutes. Asking for a link answers
 * the same whether the address belongs to a customer or not; only a customer's address
 * gets a mail. Requests are rate limited per address and per client, and every request
 * counts — known address or not — so the limit does not tell either.
 *
 * A session opened by a link is recorded (portal_link_sessions, by its own keyed hash of
 * the session id): such a session proved control of the customer's mailbox, which is what
 * replacing the license key asks for. A session opened with the key proves only that the
 * key is known — to a thief too.
 */

export const SIGN_IN_LINK_TTL_MS = 15 * 60_000;

/** Links mailed per address, and requests per client (IPv4 address or IPv6 /64). */
export const SIGN_IN_LIMITS = {
  perAddress: { count: 3, windowMs: 15 * 60_000 },
  perClient: { count: 10, windowMs: 60 * 60_000 },
} as const;

const TOKEN_DOMAIN = 'sign-in-link';
const EMAIL_DOMAIN = 'sign-in-email';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type SignInRequestOutcome =
  | { limited: false }
  | { limited: true; retryAfterSeconds: number };

/**
 * Records a request for a sign-in link and, unless the address or the client is past its
 * limit, mails a link when the address is a customer's (`email` already normalised).
 */
export async function requestSignInLink(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'secrets'>,
  request: { email: string; client: string },
): Promise<SignInRequestOutcome> {
  const now = ctx.clock.now();
  const client = clientKey(request.client);
  const emailHash = ctx.secrets.keyedHash(EMAIL_DOMAIN, request.email);
  return ctx.db.transaction(async (tx) => {
    // Insert first, then count (this request included): concurrent requests each see the
    // others, so together they can only err on the side of refusing.
    await tx.query(
      'INSERT INTO sign_in_requests (client, email_hash, requested_at) VALUES ($1, $2, $3)',
      [client, emailHash, now],
    );
    const waits = [
      await waitFor(tx, 'client', client, SIGN_IN_LIMITS.perClient, now),
      await waitFor(tx, 'email_hash', emailHash, SIGN_IN_LIMITS.perAddress, now),
    ].filter((wait): wait is number => wait !== undefined);
    if (waits.length > 0) {
      return { limited: true, retryAfterSeconds: Math.ceil(Math.max(...waits) / 1000) };
    }
    const [customer] = await tx.query<{ id: string }>(
      `SELECT c.id FROM customers c
        WHERE c.email = $1 AND EXISTS (SELECT 1 FROM licenses l WHERE l.customer_id = c.id)`,
      [request.email],
    );
    if (customer) await createLink(tx, ctx, customer.id, now);
    return { limited: false };
  });
}

/** Milliseconds until `column = value` is back under `limit`, or undefined when it is. */
async function waitFor(
  tx: Queryable,
  column: 'client' | 'email_hash',
  value: string,
  limit: { count: number; windowMs: number },
  now: Date,
): Promise<number | undefined> {
  const since = new Date(now.getTime() - limit.windowMs);
  const rows = await tx.query<{ requested_at: Date }>(
    `SELECT requested_at FROM sign_in_requests WHERE ${column} = $1 AND requested_at > $2
      ORDER BY requested_at DESC LIMIT $3`,
    [value, since, limit.count + 1],
  );
  if (rows.length <= limit.count) return undefined;
  // The request that must leave the window before this one would have been allowed.
  const oldest = new Date(rows[rows.length - 1]!.requested_at).getTime();
  return Math.max(1000, oldest + limit.windowMs - now.getTime());
}

async function createLink(
  tx: Queryable,
  ctx: Pick<StoreContext, 'secrets'>,
  customerId: string,
  now: Date,
): Promise<void> {
  const token = base64urlEncode(randomBytes(32));
  const expiresAt = new Date(now.getTime() + SIGN_IN_LINK_TTL_MS);
  await tx.query(
    `INSERT INTO sign_in_links (token_hash, customer_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4)`,
    [ctx.secrets.keyedHash(TOKEN_DOMAIN, token), customerId, now, expiresAt],
  );
  await queueMail(
    tx,
    {
      kind: 'sign_in_link',
      customerId,
      data: { expiresAt: expiresAt.toISOString() },
      secret: { value: token, secrets: ctx.secrets },
      expiresAt,
    },
    now,
  );
}

/** The customer of a link that may still be used, and their licenses (the link page). */
export async function peekSignInLink(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'secrets'>,
  token: string,
): Promise<{ customerId: string; licenses: LicenseRecord[] } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const [link] = await ctx.db.query<{ customer_id: string }>(
    `SELECT customer_id FROM sign_in_links
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
    [ctx.secrets.keyedHash(TOKEN_DOMAIN, token), ctx.clock.now()],
  );
  if (!link) return undefined;
  return {
    customerId: link.customer_id,
    licenses: await customerLicenses(ctx.db, link.customer_id),
  };
}

/** Every license of a customer, oldest first. */
export async function customerLicenses(
  db: Queryable,
  customerId: string,
): Promise<LicenseRecord[]> {
  const rows = await db.query<Parameters<typeof toLicense>[0]>(
    `SELECT ${LICENSE_COLUMNS} FROM licenses WHERE customer_id = $1 ORDER BY created_at, id`,
    [customerId],
  );
  return rows.map(toLicense);
}

/**
 * Accepts a link once, for one of its customer's licenses: the one statement that marks
 * it used also checks that it is unused, unexpired and that the license is the link's
 * customer's, so two concurrent uses cannot both succeed. The customer's other unused
 * links end with it. Returns the license id, or undefined when the link is not accepted.
 */
export async function consumeSignInLink(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'secrets'>,
  token: string,
  licenseId: string,
): Promise<string | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [used] = await tx.query<{ customer_id: string }>(
      `UPDATE sign_in_links SET used_at = $3
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $3
          AND EXISTS (SELECT 1 FROM licenses l
                       WHERE l.id = $2 AND l.customer_id = sign_in_links.customer_id)
        RETURNING customer_id`,
      [ctx.secrets.keyedHash(TOKEN_DOMAIN, token), licenseId, now],
    );
    if (!used) return undefined;
    await tx.query(
      'UPDATE sign_in_links SET used_at = $2 WHERE customer_id = $1 AND used_at IS NULL',
      [used.customer_id, now],
    );
    return licenseId;
  });
}

// ------------------------------------------------------------------ link sessions

const SESSION_DOMAIN = 'portal-link-session';

/** Records that a portal session was opened by an e-mail link (or after a key replacement). */
export async function recordLinkSession(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'secrets'>,
  session: { id: string; licenseId: string; expiresAt: Date },
): Promise<void> {
  await ctx.db.query('DELETE FROM portal_link_sessions WHERE expires_at <= $1', [ctx.clock.now()]);
  await ctx.db.query(
    `INSERT INTO portal_link_sessions (session_hash, license_id, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (session_hash) DO NOTHING`,
    [ctx.secrets.keyedHash(SESSION_DOMAIN, session.id), session.licenseId, session.expiresAt],
  );
}

/** Whether this portal session (for this license) was opened by an e-mail link. */
export async function isLinkSession(
  ctx: Pick<StoreContext, 'db' | 'clock' | 'secrets'>,
  session: { id: string; licenseId: string },
): Promise<boolean> {
  const rows = await ctx.db.query(
    `SELECT 1 FROM portal_link_sessions
      WHERE session_hash = $1 AND license_id = $2 AND expires_at > $3`,
    [ctx.secrets.keyedHash(SESSION_DOMAIN, session.id), session.licenseId, ctx.clock.now()],
  );
  return rows.length > 0;
}

/** Forgets requests, links and link sessions that can no longer decide anything. */
export async function pruneSignIn(db: Db, now: Date): Promise<void> {
  const longestWindow = Math.max(
    SIGN_IN_LIMITS.perAddress.windowMs,
    SIGN_IN_LIMITS.perClient.windowMs,
  );
  await db.query('DELETE FROM sign_in_requests WHERE requested_at < $1', [
    new Date(now.getTime() - longestWindow),
  ]);
  await db.query('DELETE FROM sign_in_links WHERE expires_at < $1', [now]);
  await db.query('DELETE FROM portal_link_sessions WHERE expires_at < $1', [now]);
}
