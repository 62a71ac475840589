import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LicenseClaimsInput } from '@licensekit/core';
import { issue } from '@licensekit/issuer';
import type { DeviceKey } from '@licensekit/verifier';
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../db/client.js';
import { ManualClock, seconds } from '../lib/clock.js';
import { newId, newLicenseKey, normaliseLicenseKey } from '../lib/ids.js';
import { LICENSE_KEY_DOMAIN } from '../lib/license-auth.js';
import type { LicenseRecord, LicenseStatus } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';

/**
 * Test data for the operations tests, written straight to the tables (no checkout):
 * customers, licenses with a known key, devices, orders, tokens signed by the store's
 * issuer key; a clock that runs; and a real webhook receiver.
 */

export const ADMIN = { authorization: 'Bearer test-admin-token' };

export function bearer(key: string) {
  return { authorization: `Bearer ${key}` };
}

/** A ManualClock that also moves with real time (workers that wait for backoff delays). */
export class LiveClock extends ManualClock {
  private offset: number;
  constructor(start: Date | number = Date.UTC(2026, 0, 15, 12)) {
    super(start);
    this.offset = (typeof start === 'number' ? start : start.getTime()) - Date.now();
  }
  override now(): Date {
    return new Date(Date.now() + this.offset);
  }
  override set(to: Date | number): void {
    this.offset = (typeof to === 'number' ? to : to.getTime()) - Date.now();
  }
  override advance(ms: number): void {
    this.offset += ms;
  }
}

export async function createCustomer(db: Queryable, email = `${newId('c')}@example.test`) {
  const id = newId('cus');
  await db.query('INSERT INTO customers (id, email) VALUES ($1, $2)', [id, email.toLowerCase()]);
  return { id, email: email.toLowerCase() };
}

export interface LicenseFixture {
  license: LicenseRecord;
  /** The license key, as a customer would type it. */
  key: string;
  customerId: string;
}

/** A license with a known key (stored, like the store does, only as a keyed hash). */
export async function createLicense(
  app: FastifyInstance,
  options: {
    productId?: string;
    planId?: string;
    status?: LicenseStatus;
    periodStart?: Date;
    periodEnd?: Date | null;
    anchor?: Date;
    customerId?: string;
  } = {},
): Promise<LicenseFixture> {
  const now = app.clock.now();
  const customerId = options.customerId ?? (await createCustomer(app.db)).id;
  const key = newLicenseKey();
  const id = newId('lic');
  const periodStart = options.periodStart ?? now;
  const periodEnd =
    options.periodEnd === undefined
      ? new Date(periodStart.getTime() + 30 * 86_400_000)
      : options.periodEnd;
  await app.db.query(
    `INSERT INTO licenses (id, customer_id, product_id, plan_id, key_hash, key_hint, status, seats,
        anchor, period_start, period_end, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11, $11)`,
    [
      id,
      customerId,
      options.productId ?? 'photon',
      options.planId ?? 'pro-monthly',
      app.secrets.keyedHash(LICENSE_KEY_DOMAIN, normaliseLicenseKey(key)),
      key.slice(-4),
      options.status ?? 'active',
      options.anchor ?? periodStart,
      periodStart,
      periodEnd,
      now,
    ],
  );
  const license = await licensesRepository(app.db).byId(id);
  return { license: license!, key, customerId };
}

export async function addDevice(db: Queryable, licenseId: string, device: DeviceKey) {
  const id = newId('dev');
  await db.query(
    `INSERT INTO devices (id, license_id, thumbprint, public_jwk) VALUES ($1, $2, $3, $4)`,
    [id, licenseId, device.thumbprint, JSON.stringify(device.publicJwk)],
  );
  return id;
}

export async function createOrder(
  db: Queryable,
  options: {
    customerId: string;
    productId?: string;
    planId?: string;
    licenseId?: string | null;
    provider?: string;
    status?: 'pending' | 'paid' | 'failed' | 'cancelled';
    amount?: number;
    createdAt?: Date;
  },
) {
  const id = newId('ord');
  await db.query(
    `INSERT INTO orders (id, customer_id, product_id, plan_id, license_id, kind, amount_minor, currency,
        provider, status, created_at)
     VALUES ($1, $2, $3, $4, $5, 'purchase', $6, 'USD', $7, $8, $9)`,
    [
      id,
      options.customerId,
      options.productId ?? 'photon',
      options.planId ?? 'pro-monthly',
      options.licenseId ?? null,
      options.amount ?? 1500,
      options.provider ?? 'manual',
      options.status ?? 'pending',
      options.createdAt ?? new Date(),
    ],
  );
  return id;
}

/** A token of the license signed by the store's issuer key with its certificate. */
export async function issueToken(
  app: FastifyInstance,
  license: LicenseRecord,
  claims: Partial<LicenseClaimsInput> = {},
): Promise<string> {
  const now = seconds(app.clock.now());
  return issue(
    {
      iss: app.keys.vendor,
      sub: license.id,
      aud: license.productId,
      plan: license.planId,
      nbf: seconds(license.periodStart),
      exp: license.periodEnd ? seconds(license.periodEnd) : undefined,
      anchor: seconds(license.anchor),
      ...claims,
    } as LicenseClaimsInput,
    { signer: app.keys.issuer, certificate: app.keys.certificate, now },
  );
}

// ---------------------------------------------------------------- webhook receiver

export interface ReceivedWebhook {
  id: string;
  timestamp: number;
  body: string;
  headers: IncomingHttpHeaders;
  /** Whether the signature checked out against the receiver's secret. */
  verified: boolean;
  /** The status the receiver answered. */
  status: number;
  receivedAt: number;
}

/**
 * Verifies a Standard Webhooks delivery, written from the specification
 * (standardwebhooks.com, "Verifying webhooks") independently of the store's signer:
 * strip "whsec_", base64-decode the key, HMAC-SHA256 over "id.timestamp.body", compare
 * in constant time with any "v1," entry of the space-separated signature header, and
 * refuse timestamps more than five minutes away from now.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  body: string,
  nowSeconds: number,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string')
    return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Secret to verify with; set after the endpoint is created. */
  secret = `whsec_${randomBytes(24).toString('base64')}`;
  /** The answer to the next delivery (after verification passed). */
  respond: (delivery: Omit<ReceivedWebhook, 'status'>) => number | Promise<number> = () => 204;
  /** Milliseconds to wait before answering. */
  delayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly now: () => number,
  ) {}

  static async start(clock: { now(): Date }): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void receiver!.handle(request.headers, Buffer.concat(chunks).toString('utf8'), response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/hooks`, () =>
      Math.floor(clock.now().getTime() / 1000),
    );
    return receiver;
  }

  private async handle(
    headers: IncomingHttpHeaders,
    body: string,
    response: import('node:http').ServerResponse,
  ) {
    const verified = verifyStandardWebhook(this.secret, headers, body, this.now());
    const delivery = {
      id: String(headers['webhook-id']),
      timestamp: Number(headers['webhook-timestamp']),
      body,
      headers,
      verified,
      receivedAt: Date.now(),
    };
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const status = verified ? await this.respond(delivery) : 401;
    this.received.push({ ...delivery, status });
    response.writeHead(status).end();
  }

  /** Waits until `predicate` holds for the deliveries so far (polling), or fails. */
  async waitFor(
    predicate: (received: ReceivedWebhook[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline)
        throw new Error(
          `webhook receiver: condition not met, got ${this.received.length} deliveries`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Waits until `check` resolves truthy, polling; for rows a worker writes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
