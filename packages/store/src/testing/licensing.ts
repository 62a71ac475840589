import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { Ed25519PublicJwk } from '@licensekit/core';
import { createDeviceProof, jwkThumbprint } from '@licensekit/core';
import type { DeviceKey, Verifier, VerifierOptions } from '@licensekit/verifier';
import { createVerifier } from '@licensekit/verifier';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { seconds } from '../lib/clock.js';
import { storeContext } from '../lib/store-context.js';
import { signWebhook } from '../payments/webhook.js';
import type { StoreContext } from '../services/context.js';
import type { TestStore } from './harness.js';

/** Helpers for the licensing tests: purchases, device keys and proofs, verifiers. */

export const STORE_URL = 'http://store.test';

export interface Purchase {
  key: string;
  licenseId: string;
  token: string | undefined;
  orderId: string;
  body: Record<string, unknown>;
}

/** POST /v1/checkout with a fresh Idempotency-Key (or the given one). */
export function checkoutRequest(
  store: TestStore,
  body: Record<string, unknown>,
  idempotencyKey: string = randomUUID(),
): Promise<LightMyRequestResponse> {
  return store.app.inject({
    method: 'POST',
    url: '/v1/checkout',
    headers: { 'idempotency-key': idempotencyKey },
    payload: body,
  });
}

/** Buys a plan (test provider unless given) and returns the key and first token. */
export async function buy(
  store: TestStore,
  body: Partial<Record<string, unknown>> = {},
): Promise<Purchase> {
  const response = await checkoutRequest(store, {
    productId: 'photon',
    planId: 'pro-monthly',
    email: `buyer-${randomUUID()}@example.com`,
    ...body,
  });
  if (response.statusCode !== 201) {
    throw new Error(`checkout answered ${response.statusCode}: ${response.body}`);
  }
  const json = response.json();
  return {
    key: json.license.key,
    licenseId: json.license.id,
    token: json.license.token,
    orderId: json.order.id,
    body: json,
  };
}

/** An Ed25519 device key in node:crypto, shaped as the verifier's DeviceKey. */
export async function deviceKey(): Promise<DeviceKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  return {
    thumbprint: await jwkThumbprint(publicJwk),
    publicJwk,
    async sign(data: Uint8Array) {
      return new Uint8Array(sign(null, data, privateKey));
    },
  };
}

/** A device proof for a store request, dated by the store's clock. */
export function proofFor(
  store: TestStore,
  device: DeviceKey,
  path: string,
  body: string,
  iat = seconds(store.clock.now()),
): Promise<string> {
  return createDeviceProof(device, { method: 'POST', url: `${STORE_URL}${path}`, body, iat });
}

/** POST with a license key and, when a device is given, a proof over the exact body. */
export async function keyPost(
  store: TestStore,
  path: string,
  key: string | undefined,
  body: unknown,
  options: { device?: DeviceKey; remoteAddress?: string; proof?: string } = {},
): Promise<LightMyRequestResponse> {
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  if (options.proof !== undefined) headers.dpop = options.proof;
  else if (options.device) headers.dpop = await proofFor(store, options.device, path, payload);
  const request: InjectOptions = { method: 'POST', url: path, headers, payload };
  if (options.remoteAddress) request.remoteAddress = options.remoteAddress;
  return store.app.inject(request);
}

export function keyGet(
  store: TestStore,
  path: string,
  key: string,
  remoteAddress?: string,
): Promise<LightMyRequestResponse> {
  const request: InjectOptions = {
    method: 'GET',
    url: path,
    headers: { authorization: `Bearer ${key}` },
  };
  if (remoteAddress) request.remoteAddress = remoteAddress;
  return store.app.inject(request);
}

export function activate(
  store: TestStore,
  key: string,
  device: DeviceKey,
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return keyPost(
    store,
    '/v1/licenses/activate',
    key,
    { device: { publicJwk: device.publicJwk, name: 'laptop' }, ...extra },
    { device },
  );
}

/** A verifier that trusts the store's root key as served by /v1/keys, on the store's clock. */
export async function storeVerifier(
  store: TestStore,
  options: Partial<VerifierOptions> = {},
): Promise<Verifier> {
  const keys = (await store.app.inject({ url: '/v1/keys' })).json();
  return createVerifier({
    trust: { roots: keys.roots },
    product: 'photon',
    clock: () => store.clock.now(),
    ...options,
  });
}

/** A `fetch` that sends requests into the store with inject (no port). */
export function injectFetch(store: TestStore): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const request: InjectOptions = {
      method: (init?.method ?? 'GET') as 'POST',
      url: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
    };
    if (typeof init?.body === 'string') request.payload = init.body;
    const response = await store.app.inject(request);
    return new Response(response.body, {
      status: response.statusCode,
      headers: { 'content-type': String(response.headers['content-type'] ?? 'application/json') },
    });
  }) as typeof fetch;
}

export function context(store: TestStore): StoreContext {
  return storeContext(store.app);
}

/** A webhook endpoint row, so emitted events land in the outbox where tests can read them. */
export async function subscribeToEvents(store: TestStore): Promise<void> {
  await store.db.query(
    `INSERT INTO webhook_endpoints (id, url, secret, active) VALUES ($1, $2, $3, true)`,
    [`whe_${randomUUID()}`, 'http://127.0.0.1:9/hooks', 'whsec_dGVzdHRlc3R0ZXN0dGVzdA=='],
  );
}

export async function eventsOf(
  store: TestStore,
  licenseId: string,
): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const rows = await store.db.query<{ type: string; payload: { data: Record<string, unknown> } }>(
    'SELECT type, payload FROM webhook_outbox ORDER BY created_at, id',
  );
  return rows
    .map((row) => ({ type: row.type, data: row.payload.data }))
    .filter((event) => event.data.licenseId === licenseId);
}

export const DAY_MS = 86_400_000;

/**
 * A payment processor's webhook (`order.paid`, `order.failed`, …) to
 * /v1/webhooks/payments/<provider>, signed with `secret` as Standard Webhooks prescribes,
 * dated by the store's clock.
 */
export function deliverPaymentWebhook(
  store: TestStore,
  options: { provider: string; secret: string; id?: string | undefined },
  body: unknown,
): Promise<LightMyRequestResponse> {
  const payload = JSON.stringify(body);
  const id = options.id ?? `msg_${randomUUID()}`;
  const timestamp = seconds(store.clock.now());
  return store.app.inject({
    method: 'POST',
    url: `/v1/webhooks/payments/${options.provider}`,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(options.secret, id, timestamp, payload),
    },
    payload,
  });
}
