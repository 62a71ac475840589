import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../../lib/clock.js';
import { signWebhook } from '../../payments/webhook.js';
import { ordersRepository } from '../../repositories/orders.js';
import { runBillingCycle } from '../../services/billing.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { buy, context, DAY_MS, keyGet, keyPost } from '../../testing/licensing.js';

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
    const other = await deliver({ type: 'customer.updated', data: {} });
    expect(other.json()).toMatchObject({ received: true, ignored: true });
    const unknown = await deliver({ type: 'order.paid', data: { providerRef: 'ord_unknown' } });
    expect(unknown.statusCode).toBe(404);
  });

  // A processor that takes a payment after the store failed or cancelled its order: the
  // store answered 409, the processor retried until it gave up, and nothing anywhere said
  // the customer had paid. Now it is recorded for the operator to give back, once, and the
  // processor's report of that refund is acknowledged, without booking either.
  test('a payment of a failed order is recorded to refund at the processor, never booked', async () => {
    const purchase = await buy(store, { provider: 'acmepay' });
    await deliver({ type: 'order.failed', data: { providerRef: purchase.orderId } });
    const id = `msg_${randomUUID()}`;
    const paid = { type: 'order.paid', data: { providerRef: purchase.orderId } };
    const late = await deliver(paid, { id });
    expect(late.statusCode).toBe(200);
    expect(late.json()).toMatchObject({
      received: true,
      duplicate: false,
      latePayment: 'refund_at_processor',
      order: { id: purchase.orderId, status: 'failed' },
    });
    expect((await deliver(paid, { id })).json()).toMatchObject({ duplicate: true });
    expect((await ordersRepository(store.db).byId(purchase.orderId))?.status).toBe('failed');
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(402);
    const noted = () =>
      store.db.query<{ action: string; actor: string; detail: Record<string, unknown> }>(
        'SELECT action, actor, detail FROM admin_actions WHERE target = $1 ORDER BY created_at',
        [purchase.orderId],
      );
    expect(await noted()).toEqual([
      expect.objectContaining({
        action: 'order.late_payment',
        actor: 'processor:acmepay',
        detail: expect.objectContaining({ amount: expect.any(Number), processorEvent: id }),
      }),
    ]);
    // The operator refunds it at the processor, which reports it (twice).
    const refundId = `msg_${randomUUID()}`;
    const refund = { type: 'order.refunded', data: { providerRef: purchase.orderId } };
    const first = await deliver(refund, { id: refundId });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ duplicate: false, ignored: true });
    expect((await deliver(refund, { id: refundId })).json()).toMatchObject({ duplicate: true });
    const refunds = await store.db.query('SELECT 1 FROM refunds WHERE order_id = $1', [
      purchase.orderId,
    ]);
    expect(refunds).toHaveLength(0);
    expect((await noted()).map((row) => row.action)).toEqual([
      'order.late_payment',
      'order.refunded',
    ]);
  });

  // A processor redelivers an event it thinks was not received for days (Stripe for three,
  // and by hand for as long as it keeps the event), and a refund that names no refundRef is
  // told apart only by its event id: the billing job forgot the ids after 24 hours, and
  // the same refund delivered again two days later was booked a second time.
  test('a refund delivered again days later is a duplicate, not a second refund', async () => {
    const purchase = await buy(store, { provider: 'acmepay' });
    await deliver({ type: 'order.paid', data: { providerRef: purchase.orderId } });
    const id = `msg_${randomUUID()}`;
    const refund = { type: 'order.refunded', data: { providerRef: purchase.orderId, amount: 100 } };
    expect((await deliver(refund, { id })).json()).toMatchObject({ duplicate: false });
    store.clock.advance(2 * DAY_MS);
    await runBillingCycle(context(store), store.clock.now());
    const again = await deliver(refund, { id });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true });
    const refunds = await store.db.query('SELECT amount_minor FROM refunds WHERE order_id = $1', [
      purchase.orderId,
    ]);
    expect(refunds).toHaveLength(1);
    expect((await ordersRepository(store.db).byId(purchase.orderId))?.status).toBe('paid');
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
