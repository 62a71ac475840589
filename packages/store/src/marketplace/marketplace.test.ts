import { paymentLines, prorate, splitRevenue } from '@licensekit/core';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { ordersRepository } from '../repositories/orders.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy, context, DAY_MS, keyPost } from '../testing/licensing.js';
import { bookRefund } from './bookkeeping.js';

// Wednesday 2026-04-01: a 30-day month, so proration is easy to check by hand.
const START = Date.UTC(2026, 3, 1);
const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe.skipIf(postgresUnavailable)('marketplace: vendors, ledger, invoices, payouts', () => {
  let store: TestStore;
  const admin = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse> => {
    const options: InjectOptions = { method, url, headers: ADMIN };
    if (payload !== undefined) options.payload = payload as object;
    return store.app.inject(options);
  };

  beforeAll(async () => {
    store = await buildTestStore({ clock: new ManualClock(START) });
    const catalogue = catalogueRepository(store.db, 'http://store.test');
    for (const [product, price] of [
      ['anvil', 3000],
      ['widget', 999],
    ] as const) {
      await catalogue.upsertProduct({ id: product, name: product.toUpperCase() });
      await catalogue.upsertPlan(product, {
        id: 'basic',
        name: 'Basic',
        price: { amount: price, currency: 'USD' },
        interval: 'month',
        seats: 1,
      });
      await catalogue.upsertPlan(product, {
        id: 'plus',
        name: 'Plus',
        price: { amount: price * 2, currency: 'USD' },
        interval: 'month',
        seats: 1,
        position: 1,
      });
    }
  });
  afterAll(async () => store?.close());

  test('vendors: created with the default terms, validated, and products assigned', async () => {
    const listed = await admin('GET', '/v1/admin/vendors');
    // The store's own vendor exists without set-up.
    expect(listed.json().vendors.map((v: { id: string }) => v.id)).toHaveLength(1);

    const acme = await admin('POST', '/v1/admin/vendors', { id: 'anvilco', name: 'Acme Tools' });
    expect(acme.statusCode).toBe(201);
    expect(acme.json()).toMatchObject({ shareBps: 7500, holdDays: 22 });
    const globex = await admin('POST', '/v1/admin/vendors', {
      id: 'globex',
      name: 'Globex',
      shareBps: 8000,
      holdDays: 5,
      invoiceDetails: { legalName: 'Globex Corporation', address: '1 Main St', taxId: 'EU123' },
    });
    expect(globex.statusCode).toBe(201);

    expect(
      (await admin('POST', '/v1/admin/vendors', { id: 'anvilco', name: 'x' })).statusCode,
    ).toBe(409);
    for (const body of [
      { id: 'bad', name: 'x', shareBps: 10_001 },
      { id: 'bad', name: 'x', shareBps: 7.5 },
      { id: 'bad', name: 'x', holdDays: -1 },
      { id: 'Bad Id', name: 'x' },
      { id: 'bad', name: '' },
      { id: 'bad', name: 'x', extra: 1 },
    ]) {
      const response = await admin('POST', '/v1/admin/vendors', body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await admin('GET', '/v1/admin/vendors/nobody')).json().error.code).toBe(
      'VENDOR_NOT_FOUND',
    );
    expect(
      (await admin('PUT', '/v1/admin/products/anvil/vendor', { vendorId: 'nobody' })).json().error
        .code,
    ).toBe('VENDOR_NOT_FOUND');
    expect(
      (await admin('PUT', '/v1/admin/products/nothing/vendor', { vendorId: 'anvilco' })).json()
        .error.code,
    ).toBe('PRODUCT_NOT_FOUND');
    expect(
      (await admin('PUT', '/v1/admin/products/anvil/vendor', { vendorId: 'anvilco' })).statusCode,
    ).toBe(200);
    expect(
      (await admin('PUT', '/v1/admin/products/widget/vendor', { vendorId: 'globex' })).statusCode,
    ).toBe(200);
    // Without the admin token nothing is shown.
    const anonymous = await store.app.inject({ method: 'GET', url: '/v1/admin/vendors' });
    expect(anonymous.statusCode).toBe(401);
  });

  test('paid orders book balanced lines and gap-free invoices; an upgrade books its proration', async () => {
    store.clock.set(START);
    const anvil = await buy(store, { productId: 'anvil', planId: 'basic' });
    const widget = await buy(store, { productId: 'widget', planId: 'basic' });
    store.clock.advance(20 * DAY_MS); // 10 of 30 days left
    const upgrade = await keyPost(store, '/v1/licenses/plan', anvil.key, {
      planId: 'plus',
      confirm: true,
    });
    expect(upgrade.statusCode).toBe(200);
    const charge = prorate({
      oldPrice: 3000,
      newPrice: 6000,
      periodStart: at('2026-04-01T00:00:00Z'),
      periodEnd: at('2026-05-01T00:00:00Z'),
      now: at('2026-04-21T00:00:00Z'),
    });
    expect(upgrade.json().order.amount).toBe(charge);

    const lines = await store.db.query<{
      order_id: string;
      account: string;
      amount_minor: string;
      vendor_id: string;
    }>(`SELECT order_id, account, amount_minor, vendor_id FROM ledger_lines ORDER BY id`);
    const byOrder = new Map<string, typeof lines>();
    for (const line of lines)
      byOrder.set(line.order_id, [...(byOrder.get(line.order_id) ?? []), line]);
    expect(byOrder.size).toBe(3);
    for (const [, entry] of byOrder) {
      expect(entry.reduce((sum, line) => sum + Number(line.amount_minor), 0)).toBe(0);
    }
    const vendorLine = (orderId: string) =>
      -Number(
        byOrder.get(orderId)!.find((line) => line.account === 'vendor_payable')!.amount_minor,
      );
    expect(vendorLine(anvil.orderId)).toBe(splitRevenue(3000, 7500).vendor);
    expect(vendorLine(widget.orderId)).toBe(splitRevenue(999, 8000).vendor); // 799.2 → 799
    expect(vendorLine(upgrade.json().order.id)).toBe(-paymentLines(charge, 7500)[1]!.amount);
    expect(byOrder.get(widget.orderId)![0]!.vendor_id).toBe('globex');

    const invoices = (await admin('GET', '/v1/admin/invoices')).json().invoices;
    // Test-mode orders are numbered in their own series, one after the other, no gap.
    expect(invoices.map((i: { number: string }) => i.number).sort()).toEqual([
      'TEST-INV-000001',
      'TEST-INV-000002',
      'TEST-INV-000003',
    ]);
    const widgetInvoice = invoices.find((i: { orderId: string }) => i.orderId === widget.orderId);
    expect(widgetInvoice).toMatchObject({
      kind: 'invoice',
      vendorId: 'globex',
      total: 999,
      net: 999,
      tax: 0,
      test: true,
      seller: { name: 'Globex Corporation', address: '1 Main St', taxId: 'EU123' },
    });
    expect(widgetInvoice.lines[0].description).toContain('WIDGET — Basic (purchase');
    const onlyAcme = (await admin('GET', '/v1/admin/invoices?vendorId=anvilco')).json().invoices;
    expect(onlyAcme.every((i: { vendorId: string }) => i.vendorId === 'anvilco')).toBe(true);
    expect(onlyAcme).toHaveLength(2);
  });

  test('the PDF of an invoice holds its number, parties and total as text', async () => {
    const [invoice] = (await admin('GET', '/v1/admin/invoices?vendorId=globex')).json().invoices;
    const pdf = await admin('GET', `/v1/admin/invoices/${invoice.id}?format=pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const document = await getDocument({ data: new Uint8Array(pdf.rawPayload) }).promise;
    const page = await document.getPage(1);
    const text = (await page.getTextContent()).items
      .map((item) => ('str' in item ? item.str : ''))
      .join(' ');
    expect(text).toContain(invoice.number);
    expect(text).toContain('Globex Corporation');
    expect(text).toContain('$9.99');
    expect((await admin('GET', '/v1/admin/invoices/inv_nothing')).statusCode).toBe(404);
    expect((await admin('GET', '/v1/admin/invoices/../etc')).statusCode).toBe(404);
  });

  test('payouts wait for the hold, pay the share exactly once, and refunds carry forward', async () => {
    // The widget (globex, 5 business days) was paid April 1: payable April 8. The anvil
    // (22 business days) was paid April 1 and upgraded April 21: payable May 1 and May 21.
    store.clock.set(Date.UTC(2026, 3, 27, 12));
    let run = (await admin('POST', '/v1/admin/payouts/run', {})).json();
    expect(run.payouts.map((p: { vendorId: string }) => p.vendorId)).toEqual(['globex']);
    store.clock.set(Date.UTC(2026, 3, 28));
    run = (await admin('POST', '/v1/admin/payouts/run', {})).json();
    // Nothing new became payable since: the same run makes nothing.
    expect(run.payouts).toEqual([]);

    store.clock.set(Date.UTC(2026, 5, 1));
    run = (await admin('POST', '/v1/admin/payouts/run', {})).json();
    const acmePayout = run.payouts.find((p: { vendorId: string }) => p.vendorId === 'anvilco');
    const upgradeCharge = 1000;
    expect(acmePayout).toMatchObject({
      amount: splitRevenue(3000, 7500).vendor + splitRevenue(upgradeCharge, 7500).vendor,
      currency: 'USD',
      test: true,
      status: 'pending',
    });
    // Idempotent: the same run again makes nothing.
    expect((await admin('POST', '/v1/admin/payouts/run', {})).json().payouts).toEqual([]);

    const statement = (await admin('GET', `/v1/admin/payouts/${acmePayout.id}`)).json();
    expect(
      statement.lines.reduce((sum: number, line: { amount: number }) => sum + line.amount, 0),
    ).toBe(acmePayout.amount);
    const csv = await admin('GET', `/v1/admin/payouts/${acmePayout.id}?format=csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe(
      'payout,vendor,currency,order,kind,amount_minor,booked_at,document',
    );
    expect(csv.body.trim().split('\r\n')).toHaveLength(3);

    const confirmed = await admin('POST', `/v1/admin/payouts/${acmePayout.id}/confirm`, {
      reference: 'wire 42',
    });
    expect(confirmed.json()).toMatchObject({ status: 'paid', reference: 'wire 42' });
    const again = await admin('POST', `/v1/admin/payouts/${acmePayout.id}/confirm`, {
      reference: 'other',
    });
    expect(again.json().reference).toBe('wire 42');
    expect(
      (await admin('POST', '/v1/admin/payouts/po_nothing/confirm', { reference: 'x' })).statusCode,
    ).toBe(404);

    // A refund of the whole purchase after the payout: the vendor owes its share back.
    const [anvilOrder] = (await admin('GET', '/v1/admin/orders?productId=anvil'))
      .json()
      .orders.filter((order: { kind: string }) => order.kind === 'purchase');
    const order = (await ordersRepository(store.db).byId(anvilOrder.id))!;
    const refund = await store.db.transaction((tx) =>
      bookRefund(tx, context(store), order, { reason: 'not as described', at: store.clock.now() }),
    );
    expect(refund).toMatchObject({ amount: 3000, full: true });
    expect(refund.creditNote).toMatchObject({
      kind: 'credit_note',
      number: 'TEST-CN-000001',
      total: -3000,
    });
    expect(refund.creditNote.correctsNumber).toMatch(/^TEST-INV-00000\d$/);
    await expect(
      store.db.transaction((tx) =>
        bookRefund(tx, context(store), order, { amount: 1, at: store.clock.now() }),
      ),
    ).rejects.toMatchObject({ code: 'CONFLICT' });

    run = (await admin('POST', '/v1/admin/payouts/run', {})).json();
    expect(run.payouts).toEqual([]);
    expect(run.carried).toEqual([
      {
        vendorId: 'anvilco',
        currency: 'USD',
        test: true,
        balance: -splitRevenue(3000, 7500).vendor,
      },
    ]);
    const acme = (await admin('GET', '/v1/admin/vendors/anvilco')).json();
    expect(acme.balances).toEqual([
      expect.objectContaining({
        available: -2250,
        paidOut: acmePayout.amount,
        onHold: 0,
        inPayouts: 0,
      }),
    ]);
  });
});
