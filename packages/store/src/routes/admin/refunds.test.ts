import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { buy, deliverPaymentWebhook } from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  formSource,
  PageClient,
  tags,
  textOf,
} from '../../testing/pages.js';

/**
 * Refunds and chargebacks through the admin API (routes/admin/refunds.ts), a processor's
 * signed webhook (routes/api/payment-webhooks.ts) and the admin screen's refund form.
 */

const SECRET = `whsec_${Buffer.from('a refunds test processor secret').toString('base64')}`;
const ADMIN_TOKEN = ADMIN.authorization.replace(/^Bearer /, '');

describe.skipIf(postgresUnavailable)('refunds and chargebacks over HTTP', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({
      licensing: { paymentWebhookSecrets: { acmepay: SECRET }, billing: { enabled: false } },
    });
  });
  afterAll(async () => store?.close());

  function api(
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    const options: InjectOptions = { method, url, headers: { ...ADMIN, ...headers } };
    if (payload !== undefined) options.payload = payload as object;
    return store.app.inject(options);
  }

  const deliver = (body: unknown, id?: string) =>
    deliverPaymentWebhook(store, { provider: 'acmepay', secret: SECRET, id }, body);

  test('partial refunds leave the order paid; the last one refunds it; the list adds up', async () => {
    const { orderId } = await buy(store);
    const first = await api('POST', `/v1/admin/orders/${orderId}/refunds`, {
      amount: 500,
      reason: 'late',
    });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      orderId,
      kind: 'refund',
      amount: 500,
      refundedTotal: 500,
      orderAmount: 1500,
      orderStatus: 'paid',
      providerRefund: 'none',
      licenseRevoked: false,
      duplicate: false,
    });
    expect((await api('GET', `/v1/admin/orders/${orderId}`)).json().status).toBe('paid');

    const tooMuch = await api('POST', `/v1/admin/orders/${orderId}/refunds`, {
      amount: 1001,
      reason: '',
    });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json().error.code).toBe('REFUND_TOO_LARGE');

    const chargeback = await api('POST', `/v1/admin/orders/${orderId}/chargebacks`, {
      amount: 400,
      reason: 'disputed',
    });
    expect(chargeback.statusCode).toBe(201);
    expect(chargeback.json()).toMatchObject({ kind: 'chargeback', refundedTotal: 900 });

    // No amount: everything left.
    const rest = await api('POST', `/v1/admin/orders/${orderId}/refunds`, {
      reason: 'the rest',
      revokeLicense: true,
    });
    expect(rest.json()).toMatchObject({
      amount: 600,
      refundedTotal: 1500,
      orderStatus: 'refunded',
      licenseRevoked: true,
    });
    expect((await api('GET', `/v1/admin/orders/${orderId}`)).json().status).toBe('refunded');
    const after = await api('POST', `/v1/admin/orders/${orderId}/refunds`, { reason: '' });
    expect(after.statusCode).toBe(409);
    expect(after.json().error.code).toBe('ORDER_NOT_REFUNDABLE');

    const list = await api('GET', `/v1/admin/orders/${orderId}/refunds`);
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body).toMatchObject({
      orderId,
      orderAmount: 1500,
      refundedTotal: 1500,
      left: 0,
      orderStatus: 'refunded',
    });
    expect(
      body.refunds.map((refund: { kind: string; amount: number }) => [refund.kind, refund.amount]),
    ).toEqual([
      ['refund', 500],
      ['chargeback', 400],
      ['refund', 600],
    ]);
    const notes = body.refunds.map((refund: { creditNote: string }) => refund.creditNote);
    expect(new Set(notes).size).toBe(3);
    for (const note of notes) expect(note).toMatch(/-CN-\d{6}$/);
  });

  test('an Idempotency-Key answers a retried refund again instead of refunding twice', async () => {
    const { orderId } = await buy(store);
    const key = { 'idempotency-key': randomUUID() };
    const url = `/v1/admin/orders/${orderId}/refunds`;
    const first = await api('POST', url, { amount: 300, reason: 'retry me' }, key);
    expect(first.statusCode).toBe(201);
    const again = await api('POST', url, { amount: 300, reason: 'retry me' }, key);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({
      refundId: first.json().refundId,
      refundedTotal: 300,
      duplicate: true,
    });
    const other = await api('POST', url, { amount: 301, reason: 'retry me' }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect((await api('GET', `${url}`)).json().refundedTotal).toBe(300);
  });

  test('bad requests and unknown orders', async () => {
    const { orderId } = await buy(store);
    for (const body of [
      { amount: 0, reason: '' },
      { amount: -1, reason: '' },
      { amount: 1.5, reason: '' },
      { amount: '100', reason: '' },
      { amount: 100 },
      { amount: 100, reason: 'x'.repeat(501) },
      { amount: 100, reason: '', extra: true },
    ]) {
      const refused = await api('POST', `/v1/admin/orders/${orderId}/refunds`, body);
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
    }
    // A chargeback names its amount.
    expect(
      (await api('POST', `/v1/admin/orders/${orderId}/chargebacks`, { reason: '' })).statusCode,
    ).toBe(400);
    for (const url of [
      '/v1/admin/orders/ord_nothing/refunds',
      '/v1/admin/orders/ord_nothing/chargebacks',
    ]) {
      const missing = await api('POST', url, { amount: 1, reason: '' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('ORDER_NOT_FOUND');
    }
    expect((await api('GET', '/v1/admin/orders/ord_nothing/refunds')).statusCode).toBe(404);
    expect(
      (await store.app.inject({ method: 'GET', url: `/v1/admin/orders/${orderId}/refunds` }))
        .statusCode,
    ).toBe(401);
    const free = await buy(store, { planId: 'free' });
    const nothing = await api('POST', `/v1/admin/orders/${free.orderId}/refunds`, { reason: '' });
    expect(nothing.json().error.code).toBe('ORDER_NOT_REFUNDABLE');
  });

  test('a processor reports refunds and chargebacks by signed webhook, each event once', async () => {
    const purchase = await buy(store, { provider: 'acmepay' });
    const paid = await deliver({ type: 'order.paid', data: { providerRef: purchase.orderId } });
    expect(paid.json().order.status).toBe('paid');
    // The seeded pro-monthly plan costs 1500.
    const id = `msg_${randomUUID()}`;
    const refunded = await deliver(
      {
        type: 'order.refunded',
        data: { providerRef: purchase.orderId, amount: 200, refundRef: 're_1', reason: 'asked' },
      },
      id,
    );
    expect(refunded.statusCode).toBe(200);
    expect(refunded.json()).toMatchObject({
      received: true,
      duplicate: false,
      order: { id: purchase.orderId, status: 'paid' },
    });
    const replay = await deliver(
      { type: 'order.refunded', data: { providerRef: purchase.orderId, amount: 200 } },
      id,
    );
    expect(replay.json()).toMatchObject({ received: true, duplicate: true });
    // The same refund under a new event id: recognised by the processor's refund id.
    const echo = await deliver({
      type: 'order.refunded',
      data: { providerRef: purchase.orderId, amount: 200, refundRef: 're_1' },
    });
    expect(echo.json()).toMatchObject({ duplicate: true });

    const disputed = await deliver({
      type: 'order.charged_back',
      data: { providerRef: purchase.orderId, amount: 1300 },
    });
    expect(disputed.json()).toMatchObject({ order: { status: 'refunded' } });
    const list = (await api('GET', `/v1/admin/orders/${purchase.orderId}/refunds`)).json();
    expect(
      list.refunds.map((refund: { kind: string; amount: number; source: string }) => [
        refund.kind,
        refund.amount,
        refund.source,
      ]),
    ).toEqual([
      ['refund', 200, 'processor'],
      ['chargeback', 1300, 'processor'],
    ]);
    const tooLate = await deliver({
      type: 'order.charged_back',
      data: { providerRef: purchase.orderId, amount: 1 },
    });
    expect(tooLate.statusCode).toBe(409);
    const unknown = await deliver({
      type: 'order.refunded',
      data: { providerRef: 'ord_unknown', amount: 1 },
    });
    expect(unknown.statusCode).toBe(404);
    const noRef = await deliver({ type: 'order.refunded', data: { amount: 1 } });
    expect(noRef.statusCode).toBe(400);
  });

  test('the admin screen refunds part of an order with the optional amount field', async () => {
    const purchase = await buy(store);
    const client = new PageClient(store, { remoteAddress: '10.8.0.1' });
    const signIn = await client.submit('/admin', '/admin/sign-in', { token: ADMIN_TOKEN });
    expect(signIn.statusCode).toBe(303);
    const url = `/admin/orders/${purchase.orderId}/refund`;
    const confirm = await client.get(url);
    expect(confirm.statusCode).toBe(200);
    expect(accessibilityProblems(confirm.body)).toEqual([]);
    expect(textOf(confirm.body)).toContain('Left to refund $15.00');
    const fields = formFields(confirm.body, url);
    expect(fields).toMatchObject({ confirm: 'refund' });
    const input = tags(formSource(confirm.body, url), 'input').find((tag) => tag.name === 'amount');
    expect(input).toMatchObject({ type: 'text', inputmode: 'decimal', value: '' });

    for (const amount of ['abc', '15.001', '-1', '0', '15.01']) {
      const refused = await client.post(url, { ...fields, amount, revokeLicense: '' });
      expect(refused.statusCode, amount).toBe(400);
      expect(accessibilityProblems(refused.body)).toEqual([]);
      expect(textOf(refused.body)).toMatch(/Enter an amount like 12.50|more than is left/);
    }
    const { revokeLicense: _, ...keep } = fields;
    const part = await client.post(url, { ...keep, amount: '4.50', reason: 'partly broken' });
    expect(part.statusCode).toBe(303);
    expect(part.headers.location).toBe(`/admin/orders/${purchase.orderId}?done=refunded-part`);
    const order = (await api('GET', `/v1/admin/orders/${purchase.orderId}`)).json();
    expect(order.status).toBe('paid');
    const again = await client.get(url);
    expect(textOf(again.body)).toContain('Left to refund $10.50');
    const rest = await client.post(url, { ...formFields(again.body, url), revokeLicense: '' });
    expect(rest.headers.location).toBe(`/admin/orders/${purchase.orderId}?done=refunded`);
    const list = (await api('GET', `/v1/admin/orders/${purchase.orderId}/refunds`)).json();
    expect(list.refunds.map((refund: { amount: number }) => refund.amount)).toEqual([450, 1050]);
    expect(list.orderStatus).toBe('refunded');
  });
});
