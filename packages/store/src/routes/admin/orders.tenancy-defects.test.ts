import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createVendorToken } from '../../services/vendor-tokens.js';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import { buy, context } from '../../testing/licensing.js';

/**
 * Whose an order is once its product has moved to another vendor. The operator's usual
 * path (root README, "A marketplace"): the store's own vendor sells a product, then the
 * product is moved to a new vendor. The orders paid before the move were booked to the
 * store's vendor — its ledger lines, its invoices, its payouts — and stay its own (as on
 * the vendor dashboard). The new vendor must not read them through the admin API (the
 * amounts another vendor was paid, its customers' e-mails), nor hear of their refunds,
 * and the vendor that sold them must keep seeing them.
 */
describe.skipIf(postgresUnavailable)('orders of a product moved to another vendor', () => {
  let store: TestStore;
  /** Paid while photon was the store vendor's (acme): booked to acme. */
  let before: Purchase;
  /** Paid after photon moved to lumen: booked to lumen. */
  let after: Purchase;
  const tokens = { acme: '', lumen: '' };
  const endpoints = { acme: '', lumen: '' };

  const asVendor = (vendor: keyof typeof tokens, url: string) =>
    store.app.inject({ url, headers: { authorization: `Bearer ${tokens[vendor]}` } });

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    const created = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/vendors',
      headers: ADMIN,
      payload: { id: 'lumen', name: 'Lumen Labs' },
    });
    expect(created.statusCode).toBe(201);
    for (const vendor of ['acme', 'lumen'] as const) {
      tokens[vendor] = (await createVendorToken(store.db, context(store), vendor)).token;
      const endpoint = await store.app.inject({
        method: 'POST',
        url: '/v1/admin/webhooks',
        headers: { authorization: `Bearer ${tokens[vendor]}` },
        payload: { url: `https://${vendor}.example.com/hooks` },
      });
      expect(endpoint.statusCode).toBe(201);
      endpoints[vendor] = endpoint.json().endpoint.id;
    }
    before = await buy(store, { email: 'early-buyer@example.com' });
    const moved = await store.app.inject({
      method: 'PUT',
      url: '/v1/admin/products/photon/vendor',
      headers: ADMIN,
      payload: { vendorId: 'lumen' },
    });
    expect(moved.statusCode).toBe(200);
    after = await buy(store, { email: 'late-buyer@example.com' });
  });
  afterAll(async () => store?.close());

  test('the ledger books each order to the vendor that sold it (the premise)', async () => {
    const rows = await store.db.query<{ order_id: string; vendor_id: string }>(
      `SELECT DISTINCT order_id, vendor_id FROM ledger_lines WHERE kind = 'payment'
        AND order_id = ANY($1::text[])`,
      [[before.orderId, after.orderId]],
    );
    const booked = Object.fromEntries(rows.map((row) => [row.order_id, row.vendor_id]));
    expect(booked).toEqual({ [before.orderId]: 'acme', [after.orderId]: 'lumen' });
  });

  test("the new vendor's token does not read the orders another vendor was paid for", async () => {
    const one = await asVendor('lumen', `/v1/admin/orders/${before.orderId}`);
    expect(one.statusCode, one.body).toBe(404);
    expect(one.body).not.toContain('early-buyer@example.com');
    const list = await asVendor('lumen', '/v1/admin/orders');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(before.orderId);
    expect(list.body).not.toContain('early-buyer@example.com');
    const filtered = await asVendor('lumen', `/v1/admin/orders?licenseId=${before.licenseId}`);
    expect(filtered.json().orders).toEqual([]);
    // Its own sale of the product is its own.
    expect(list.body).toContain(after.orderId);
    expect((await asVendor('lumen', `/v1/admin/orders/${after.orderId}`)).statusCode).toBe(200);
  });

  test('the vendor that sold an order keeps reading it, as it reads its invoice', async () => {
    const invoices = await asVendor('acme', `/v1/admin/invoices?orderId=${before.orderId}`);
    expect(invoices.json().invoices).toHaveLength(1);
    const one = await asVendor('acme', `/v1/admin/orders/${before.orderId}`);
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json().customerEmail).toBe('early-buyer@example.com');
    const list = await asVendor('acme', '/v1/admin/orders');
    expect(list.body).toContain(before.orderId);
    expect(list.body).not.toContain(after.orderId);
    expect((await asVendor('acme', `/v1/admin/orders/${after.orderId}`)).statusCode).toBe(404);
  });

  test("a refund of an order goes to the webhooks of the vendor it was booked to, not the product's new vendor", async () => {
    const refunded = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/orders/${before.orderId}/refunds`,
      headers: ADMIN,
      payload: { amount: 100, reason: 'goodwill' },
    });
    expect(refunded.statusCode, refunded.body).toBe(201);
    const rows = await store.db.query<{ endpoint_id: string }>(
      `SELECT endpoint_id FROM webhook_outbox
        WHERE type = 'order.refunded' AND payload->'data'->>'orderId' = $1`,
      [before.orderId],
    );
    const receivers = rows.map((row) => row.endpoint_id);
    expect(receivers).toContain(endpoints.acme);
    expect(receivers).not.toContain(endpoints.lumen);
  });
});
