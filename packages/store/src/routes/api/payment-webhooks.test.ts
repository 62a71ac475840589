import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../../lib/clock.js';
import { signWebhook } from '../../payments/webhook.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { buy, keyGet, keyPost } from '../../testing/licensing.js';

const SECRET = `whsec_${Buffer.from('a payment processor webhook secret').toString('base64')}`;

describe.skipIf(postgresUnavailable)('signed payment webhooks', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({
      licensing: { paymentWebhookSecrets: { acmepay: SECRET }, billing: { enabled: false } },
    });
  });
  afterAll(async () => store?.close());

  function deliver(
    body: unknown,
    options: { id?: string; timestamp?: number; secret?: string; provider?: string } = {},
  ) {
    const payload = JSON.stringify(body);
    const id = options.id ?? `msg_${randomUUID()}`;
    const timestamp = options.timestamp ?? seconds(store.clock.now());
    return store.app.inject({
      method: 'POST',
      url: `/v1/webhooks/payments/${options.provider ?? 'acmepay'}`,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': `v1,bm9wZQ== ${signWebhook(options.secret ?? SECRET, id, timestamp, payload)}`,
      },
      payload,
    });
  }

  test('a processor order stays pending until its order.paid webhook; replays are ignored', async () => {
    const purchase = await buy(store, { provider: 'acmepay' });
    expect(purchase.body).toMatchObject({
      order: { status: 'pending', test: false },
      license: { status: 'pending' },
    });
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(402);
    const id = `msg_${randomUUID()}`;
    const event = { type: 'order.paid', data: { providerRef: purchase.orderId } };
    const first = await deliver(event, { id });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      received: true,
      duplicate: false,
      order: { id: purchase.orderId, status: 'paid' },
    });
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).json().status).toBe('active');
    const replay = await deliver(event, { id });
    expect(replay.json()).toMatchObject({ received: true, duplicate: true });
    // A new delivery of the same event (new id) is harmless: the order is already paid.
    expect((await deliver(event)).statusCode).toBe(200);
  });

  test('order.failed marks the order failed; unknown events are acknowledged', async () => {
    const purchase = await buy(store, { provider: 'acmepay' });
    const failed = await deliver({ type: 'order.failed', data: { providerRef: purchase.orderId } });
    expect(failed.json().order.status).toBe('failed');
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(402);
    const late = await deliver({ type: 'order.paid', data: { providerRef: purchase.orderId } });
    expect(late.statusCode).toBe(409);
    const other = await deliver({ type: 'customer.updated', data: {} });
    expect(other.json()).toMatchObject({ received: true, ignored: true });
    const unknown = await deliver({ type: 'order.paid', data: { providerRef: 'ord_unknown' } });
    expect(unknown.statusCode).toBe(404);
  });

  test('bad signatures, stale timestamps and unknown providers are refused', async () => {
    const event = { type: 'order.paid', data: { providerRef: 'x' } };
    const wrongSecret = await deliver(event, {
      secret: 'whsec_d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA==',
    });
    expect(wrongSecret.statusCode).toBe(401);
    expect(wrongSecret.json().error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    const now = seconds(store.clock.now());
    expect((await deliver(event, { timestamp: now - 301 })).statusCode).toBe(401);
    expect((await deliver(event, { timestamp: now + 301 })).statusCode).toBe(401);
    expect((await deliver(event, { provider: 'other' })).statusCode).toBe(404);
    const unsigned = await store.app.inject({
      method: 'POST',
      url: '/v1/webhooks/payments/acmepay',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(event),
    });
    expect(unsigned.statusCode).toBe(401);
    // The signature covers the exact bytes: re-serialised JSON does not verify.
    const id = `msg_${randomUUID()}`;
    const signed = signWebhook(SECRET, id, now, JSON.stringify(event));
    const reformatted = await store.app.inject({
      method: 'POST',
      url: '/v1/webhooks/payments/acmepay',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(now),
        'webhook-signature': signed,
      },
      payload: JSON.stringify(event, null, 2),
    });
    expect(reformatted.statusCode).toBe(401);
  });
});
