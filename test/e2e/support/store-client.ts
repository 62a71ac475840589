/**
 * The store's HTTP API as the fault tests drive it over loopback: a customer's calls
 * (checkout, activation with a device proof, refresh, plan change, status) and the admin
 * API's order list. An answer counts only when it arrived whole: a call whose connection
 * broke (the store was killed) resolves to `undefined`, its outcome unknown.
 */
import { randomUUID } from 'node:crypto';
import { createDeviceProof } from '../../../packages/core/src/index.js';
import type { DeviceKey } from '../../../packages/verifier/src/index.js';

export { deviceKey } from '../../../packages/store/src/testing/licensing.js';
export type { DeviceKey };

export type TokenFormat = 'jwt' | 'cwt';

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes, read by tests
  body: any;
  headers: Headers;
  /** From sending the request to the last byte of the answer. */
  ms: number;
}

export interface SendOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Gives up (no answer) after this long. Default 30 s. */
  timeoutMs?: number;
}

export interface CheckoutBody {
  productId: string;
  planId: string;
  email: string;
  format?: TokenFormat;
}

export class StoreClient {
  constructor(
    readonly url: string,
    private readonly adminToken: string,
  ) {}

  /** One request; `undefined` when no complete answer arrived. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<Answer | undefined> {
    const started = performance.now();
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    try {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      const text = await response.text();
      let body: unknown = text;
      if (response.headers.get('content-type')?.startsWith('application/json')) {
        body = JSON.parse(text);
      }
      return {
        status: response.status,
        body,
        headers: response.headers,
        ms: performance.now() - started,
      };
    } catch {
      return undefined;
    }
  }

  checkout(body: CheckoutBody, idempotencyKey: string = randomUUID()) {
    return this.send('POST', '/v1/checkout', {
      body,
      headers: { 'idempotency-key': idempotencyKey },
    });
  }

  /** POST with the license key and a device proof over the exact body bytes. */
  async proven(path: string, key: string | undefined, device: DeviceKey, body: unknown) {
    const payload = JSON.stringify(body);
    const proof = await createDeviceProof(device, {
      method: 'POST',
      url: `${this.url}${path}`,
      body: payload,
    });
    const headers: Record<string, string> = { dpop: proof };
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    return this.send('POST', path, { body: payload, headers });
  }

  activate(key: string, device: DeviceKey, format: TokenFormat) {
    return this.proven('/v1/licenses/activate', key, device, {
      device: { publicJwk: device.publicJwk, name: 'fault-test' },
      format,
    });
  }

  /** Refresh with a token, as the verifier does (a proof of its device when it is bound). */
  refreshWithToken(token: string, device: DeviceKey | undefined, format: TokenFormat) {
    const body = { token, format };
    return device
      ? this.proven('/v1/licenses/refresh', undefined, device, body)
      : this.send('POST', '/v1/licenses/refresh', { body });
  }

  refreshWithKey(key: string, format: TokenFormat) {
    return this.send('POST', '/v1/licenses/refresh', {
      body: { format },
      headers: { authorization: `Bearer ${key}` },
    });
  }

  changePlan(key: string, planId: string, format: TokenFormat) {
    return this.send('POST', '/v1/licenses/plan', {
      body: { planId, confirm: true, format },
      headers: { authorization: `Bearer ${key}` },
    });
  }

  status(key: string) {
    return this.send('GET', '/v1/licenses/status', {
      headers: { authorization: `Bearer ${key}` },
    });
  }

  admin(method: string, path: string, body?: unknown) {
    return this.send(method, path, {
      headers: { authorization: `Bearer ${this.adminToken}` },
      ...(body === undefined ? {} : { body }),
    });
  }

  /** Every order the admin API lists (all pages), newest first. */
  async adminOrders(query = ''): Promise<AdminOrder[]> {
    const orders: AdminOrder[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams(query);
      params.set('limit', '200');
      if (cursor) params.set('cursor', cursor);
      const answer = await this.admin('GET', `/v1/admin/orders?${params}`);
      if (answer?.status !== 200) {
        throw new Error(`admin orders answered ${answer?.status}: ${JSON.stringify(answer?.body)}`);
      }
      orders.push(...(answer.body.orders as AdminOrder[]));
      cursor = answer.body.nextCursor as string | null;
    } while (cursor);
    return orders;
  }
}

export interface AdminOrder {
  id: string;
  licenseId: string | null;
  customerEmail: string;
  kind: string;
  planId: string;
  status: string;
  amount: { amount: number; currency: string };
}

/** The claims of a JWT (the tests read `seq`, `prev`, `sub` of tokens they were given). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function inBatches<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
