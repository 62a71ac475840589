import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { base64urlDecode, base64urlEncode } from '@licensekit/core';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { newId } from '../lib/ids.js';
import type { Resolver } from '../lib/public-address.js';
import { publicAddressesOf, systemResolver } from '../lib/public-address.js';
import type { Secrets } from '../lib/secrets.js';
import type { EventType } from './events.js';
import { EVENT_TYPES } from './events.js';

/**
 * Outgoing webhook endpoints and the Standard Webhooks signature scheme
 * (https://www.standardwebhooks.com, spec v1): every message carries
 *   webhook-id         the message id (stable across retries: receivers dedupe on it)
 *   webhook-timestamp  seconds since the epoch of this attempt
 *   webhook-signature  "v1," + base64(HMAC-SHA256(secret bytes, "${id}.${timestamp}.${body}"))
 * where the endpoint secret is "whsec_" + base64 of 32 random bytes, shown once at creation.
 */

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;
// Endpoint secrets must be readable to sign, so they cannot be hashed like license keys:
// they are encrypted (AES-256-GCM) under a key derived from the store secret and the
// endpoint id, so a copy of the database alone does not let anyone forge webhooks.
const ENCRYPTION_DOMAIN = 'webhook-endpoint-secret';
const ENCRYPTED_PREFIX = 'enc:v1:';

export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The key bytes of a `whsec_…` secret (the base64 part, decoded). */
export function webhookSecretBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The `webhook-signature` value of one message: `v1,<base64 HMAC-SHA256>`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', webhookSecretBytes(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of a delivery attempt. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, id, timestamp, body),
  };
}

export function encryptEndpointSecret(
  secrets: Secrets,
  endpointId: string,
  secret: string,
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv(
    'aes-256-gcm',
    secrets.deriveKey(ENCRYPTION_DOMAIN, endpointId),
    iv,
  );
  cipher.setAAD(Buffer.from(endpointId));
  const sealed = Buffer.concat([
    iv,
    cipher.update(secret, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `${ENCRYPTED_PREFIX}${base64urlEncode(sealed)}`;
}

export function decryptEndpointSecret(
  secrets: Secrets,
  endpointId: string,
  stored: string,
): string {
  if (!stored.startsWith(ENCRYPTED_PREFIX)) throw new Error('webhook secret is not encrypted');
  const sealed = Buffer.from(base64urlDecode(stored.slice(ENCRYPTED_PREFIX.length), 'secret'));
  const decipher = createDecipheriv(
    'aes-256-gcm',
    secrets.deriveKey(ENCRYPTION_DOMAIN, endpointId),
    sealed.subarray(0, 12),
  );
  decipher.setAAD(Buffer.from(endpointId));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([
    decipher.update(sealed.subarray(12, sealed.length - 16)),
    decipher.final(),
  ]).toString('utf8');
}

export interface WebhookEndpoint {
  id: string;
  /** The vendor whose events it receives; null = the operator's (every event). */
  vendorId: string | null;
  url: string;
  /** Subscribed event types; empty = every type. */
  events: EventType[];
  active: boolean;
  createdAt: Date;
  pending: number;
  delivered: number;
  failed: number;
}

export interface WebhookMessage {
  id: string;
  type: string;
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
  lastError: string | null;
  createdAt: Date;
}

/** Receivers must be plain http(s) URLs without credentials in them. */
function checkUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError('BAD_REQUEST', 'The webhook URL is not a valid URL.');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new StoreError('BAD_REQUEST', 'The webhook URL must be http:// or https://.');
  }
  if (parsed.username || parsed.password) {
    throw new StoreError('BAD_REQUEST', 'The webhook URL must not contain credentials.');
  }
  return parsed;
}

/** Who may point endpoints where (config `operations.webhooks`). */
export interface WebhookTargetRules {
  /** Vendors' endpoints may target private addresses too (development and tests). */
  vendorPrivateTargets: boolean;
  /** Injectable for tests, which have no DNS. */
  resolve?: Resolver | undefined;
}

/**
 * A vendor's endpoint must be on a public address (lib/public-address.ts): the store
 * would otherwise POST from inside the operator's network wherever a vendor says, and the
 * outcomes it shows the vendor would map that network. A name that does not resolve
 * (yet) is let through: nothing can be reached by it now, and every delivery checks
 * again. The refusal names the rule only, never the addresses a name resolved to.
 */
async function checkVendorTarget(url: URL, rules: WebhookTargetRules): Promise<void> {
  if (rules.vendorPrivateTargets) return;
  let addresses: string[] | undefined;
  try {
    addresses = await publicAddressesOf(url, rules.resolve ?? systemResolver);
  } catch {
    return;
  }
  if (!addresses) throw new StoreError('WEBHOOK_URL_NOT_PUBLIC');
}

function checkEvents(events: readonly string[]): EventType[] {
  const known: readonly string[] = EVENT_TYPES;
  for (const event of events) {
    if (!known.includes(event)) {
      throw new StoreError('BAD_REQUEST', `Unknown event type ${JSON.stringify(event)}.`);
    }
  }
  return [...new Set(events)] as EventType[];
}

interface EndpointRow {
  id: string;
  vendor_id: string | null;
  url: string;
  events: EventType[];
  active: boolean;
  created_at: Date;
  pending: number;
  delivered: number;
  failed: number;
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    vendorId: row.vendor_id,
    url: row.url,
    events: row.events,
    active: row.active,
    createdAt: row.created_at,
    pending: Number(row.pending),
    delivered: Number(row.delivered),
    failed: Number(row.failed),
  };
}

const ENDPOINT_SELECT = `SELECT e.id, e.vendor_id, e.url, e.events, e.active, e.created_at,
    count(o.id) FILTER (WHERE o.delivered_at IS NULL AND o.failed_at IS NULL)::bigint AS pending,
    count(o.id) FILTER (WHERE o.delivered_at IS NOT NULL)::bigint AS delivered,
    count(o.id) FILTER (WHERE o.failed_at IS NOT NULL)::bigint AS failed
  FROM webhook_endpoints e LEFT JOIN webhook_outbox o ON o.endpoint_id = e.id`;

/**
 * Webhook endpoints (admin API): the secret is returned once, at creation. `vendorId`
 * scopes every call to one vendor's endpoints (a vendor's admin token): another vendor's
 * endpoint is not found, and its new endpoints must be on public addresses (`targets`).
 * Undefined = the operator, who sees and manages every endpoint and may target anything.
 */
export function webhooksService(
  db: Db,
  secrets: Secrets,
  targets: WebhookTargetRules = { vendorPrivateTargets: false },
) {
  async function get(id: string, vendorId?: string): Promise<WebhookEndpoint | undefined> {
    const [row] = await db.query<EndpointRow>(
      `${ENDPOINT_SELECT} WHERE e.id = $1 AND ($2::text IS NULL OR e.vendor_id = $2)
        GROUP BY e.id`,
      [id, vendorId ?? null],
    );
    return row ? toEndpoint(row) : undefined;
  }

  return {
    /** An endpoint made for a vendor receives only the events of that vendor's products. */
    async create(
      input: { url: string; events?: readonly string[] | undefined },
      now: Date,
      vendorId?: string,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const parsed = checkUrl(input.url);
      const events = checkEvents(input.events ?? []);
      if (vendorId !== undefined) await checkVendorTarget(parsed, targets);
      const url = parsed.toString();
      const id = newId('whe');
      const secret = newWebhookSecret();
      await db.query(
        `INSERT INTO webhook_endpoints (id, url, secret, events, created_at, vendor_id)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          id,
          url,
          encryptEndpointSecret(secrets, id, secret),
          JSON.stringify(events),
          now,
          vendorId ?? null,
        ],
      );
      return { endpoint: (await get(id))!, secret };
    },

    get,

    async list(vendorId?: string): Promise<WebhookEndpoint[]> {
      const rows = await db.query<EndpointRow>(
        `${ENDPOINT_SELECT} WHERE ($1::text IS NULL OR e.vendor_id = $1)
          GROUP BY e.id ORDER BY e.created_at, e.id`,
        [vendorId ?? null],
      );
      return rows.map(toEndpoint);
    },

    /** Deletes the endpoint and its messages (delivered or not): nothing more goes out. */
    async remove(id: string, vendorId?: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const found = await tx.query(
          `SELECT id FROM webhook_endpoints WHERE id = $1 AND ($2::text IS NULL OR vendor_id = $2)
             FOR UPDATE`,
          [id, vendorId ?? null],
        );
        if (found.length === 0) return false;
        await tx.query('DELETE FROM webhook_outbox WHERE endpoint_id = $1', [id]);
        await tx.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
        return true;
      });
    },

    async messages(endpointId: string, limit: number): Promise<WebhookMessage[]> {
      const rows = await db.query<{
        id: string;
        type: string;
        attempts: number;
        next_attempt_at: Date;
        delivered_at: Date | null;
        failed_at: Date | null;
        last_error: string | null;
        created_at: Date;
      }>(
        `SELECT id, type, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at
           FROM webhook_outbox WHERE endpoint_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
        [endpointId, limit],
      );
      return rows.map((row) => {
        const status = row.delivered_at ? 'delivered' : row.failed_at ? 'failed' : 'pending';
        return {
          id: row.id,
          type: row.type,
          attempts: row.attempts,
          status,
          nextAttemptAt: status === 'pending' ? row.next_attempt_at : null,
          deliveredAt: row.delivered_at,
          failedAt: row.failed_at,
          lastError: row.last_error,
          createdAt: row.created_at,
        };
      });
    },
  };
}

/** Messages waiting for delivery (the webhook_outbox_pending gauge). */
export async function pendingMessages(db: Queryable): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `SELECT count(*)::bigint AS count FROM webhook_outbox WHERE delivered_at IS NULL AND failed_at IS NULL`,
  );
  return Number(row?.count ?? 0);
}
