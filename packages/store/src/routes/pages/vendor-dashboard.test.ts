import { splitRevenue } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bookRefund } from '../../marketplace/bookkeeping.js';
import { ordersRepository } from '../../repositories/orders.js';
import { createVendorToken, revokeVendorToken } from '../../services/vendor-tokens.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import { buy, context, DAY_MS } from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  PageClient,
  setCookies,
  tags,
  textOf,
} from '../../testing/pages.js';
import { createTwoVendors, pdfText, TWO_VENDORS } from '../../testing/vendors.js';
import { formatMoney } from '../../views/format.js';

/**
 * The vendor dashboard: signing in with a vendor token (a session scoped to the vendor),
 * what the dashboard shows, and that two vendors never see each other's orders or
 * documents (another vendor's document is a 404, as an unknown one).
 */

describe.skipIf(postgresUnavailable)('vendor dashboard', () => {
  let store: TestStore;
  let clients = 0;
  const browser = () => new PageClient(store, { remoteAddress: `10.11.0.${++clients}` });
  const tokens: Record<'lumen' | 'presetco', { id: string; token: string }> = {} as never;
  const purchases: Purchase[] = [];
  let presets: Purchase;
  const documentsOf = (vendorId: string) =>
    store.db.query<{ id: string; number: string; order_id: string; kind: string }>(
      'SELECT id, number, order_id, kind FROM invoices WHERE vendor_id = $1 ORDER BY seq',
      [vendorId],
    );

  beforeAll(async () => {
    store = await buildTestStore();
    await createTwoVendors(store);
    for (const { id } of TWO_VENDORS) {
      tokens[id] = await createVendorToken(store.db, context(store), id, 'dashboard test');
    }
    // Two photon sales on two days, one preset pack.
    purchases.push(await buy(store, { email: 'ann@example.com' }));
    store.clock.advance(DAY_MS);
    purchases.push(await buy(store, { email: 'bob@example.com' }));
    presets = await buy(store, {
      email: 'ann@example.com',
      productId: 'photon-presets',
      planId: 'pack-50',
    });
  });
  afterAll(async () => store?.close());

  async function signIn(token: string, client = browser()): Promise<PageClient> {
    const answer = await client.submit('/vendor', '/vendor/sign-in', { token });
    expect(answer.statusCode, answer.body).toBe(303);
    expect(answer.headers.location).toBe('/vendor');
    return client;
  }

  test('sign-in: the form, its refusals, and a session cookie that holds no token', async () => {
    const client = browser();
    const form = await client.get('/vendor');
    expect(form.statusCode).toBe(200);
    expect(accessibilityProblems(form.body)).toEqual([]);
    expect(tags(form.body, 'input').find((input) => input.name === 'token')?.type).toBe('password');
    const empty = await client.submit('/vendor', '/vendor/sign-in', { token: '' });
    expect(empty.statusCode).toBe(400);
    expect(accessibilityProblems(empty.body)).toEqual([]);
    const wrong = await client.submit('/vendor', '/vendor/sign-in', {
      token: `lkv_${'A'.repeat(43)}`,
    });
    expect(wrong.statusCode).toBe(401);
    expect(textOf(wrong.body)).toContain('This is not a vendor token of this store');
    // The operator's admin token is not a vendor token.
    const operator = await client.submit('/vendor', '/vendor/sign-in', {
      token: 'test-admin-token',
    });
    expect(operator.statusCode).toBe(401);
    const forged = await browser().post('/vendor/sign-in', { token: tokens.lumen.token });
    expect(forged.statusCode).toBe(403);
    expect(setCookies(forged).has('lk_vendor')).toBe(false);

    const answer = await client.submit('/vendor', '/vendor/sign-in', {
      token: tokens.lumen.token,
    });
    expect(answer.statusCode).toBe(303);
    const cookie = setCookies(answer).get('lk_vendor')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const id = client.cookies.get('lk_vendor')!;
    const [row] = await store.db.query<{ id_hash: string; vendor_id: string }>(
      'SELECT id_hash, vendor_id FROM vendor_sessions',
    );
    expect(row!.vendor_id).toBe('lumen');
    expect(row!.id_hash).not.toBe(id);
    for (const { response } of client.responses) {
      expect(response.body).not.toContain(tokens.lumen.token);
      expect(JSON.stringify(response.headers)).not.toContain(tokens.lumen.token);
    }
  });

  test('the dashboard: balance, next payout, sales, the chart with its table, orders, invoices', async () => {
    const client = await signIn(tokens.lumen.token);
    const page = await client.get('/vendor');
    expect(page.statusCode).toBe(200);
    expect(accessibilityProblems(page.body)).toEqual([]);
    const text = textOf(page.body);
    expect(text).toContain('Dashboard of Lumen Labs');
    const { vendor, fee } = splitRevenue(1500, 7500);
    // Two sales of $15.00: gross, share and fees, in the 30 days and all time.
    expect(text).toContain(`Gross sales ${formatMoney(3000, 'USD')} ${formatMoney(3000, 'USD')}`);
    expect(text).toContain(
      `Your share ${formatMoney(2 * vendor, 'USD')} ${formatMoney(2 * vendor, 'USD')}`,
    );
    expect(text).toContain(`Store fees ${formatMoney(2 * fee, 'USD')}`);
    // Next payout: when the first hold ends (22 business days after the first sale).
    const [hold] = await store.db.query<{ at: Date }>(
      `SELECT MIN(payable_at) AS at FROM ledger_lines
        WHERE vendor_id = 'lumen' AND account = 'vendor_payable'`,
    );
    const holdEnds = new Intl.DateTimeFormat('en-US', {
      dateStyle: 'long',
      timeZone: 'UTC',
    }).format(new Date(hold!.at));
    expect(text).toContain(`Next payout ${holdEnds}`);
    expect(text).toContain(`On hold ${formatMoney(2 * vendor, 'USD')}`);

    // The chart: an image with a title and description, 30 bars, and the same as a table.
    const svg = /<svg[\s\S]*?<\/svg>/.exec(page.body)![0];
    expect(svg).toContain('role="img"');
    expect(svg).toMatch(/<title id="sales-chart-title">Gross sales per day, last 30 days, USD/);
    expect(svg).toMatch(/<desc id="sales-chart-desc">\$30\.00 from 2 payments/);
    const bars = tags(svg, 'rect');
    expect(bars).toHaveLength(30);
    const tall = bars.filter((bar) => Number(bar.height) > 0).map((bar) => bar['data-day']);
    expect(tall).toHaveLength(2);
    const table = /<details class="chart-table">[\s\S]*?<\/details>/.exec(page.body)![0];
    expect(textOf(table)).toContain(`${tall[0]} 1 ${formatMoney(1500, 'USD')}`);
    expect(tags(page.body, 'script').every((script) => script.src?.startsWith('/static/'))).toBe(
      true,
    );

    // Orders and invoices: its own, with links to each document's page and PDF.
    for (const purchase of purchases) expect(page.body).toContain(purchase.orderId);
    expect(page.body).not.toContain(presets.orderId);
    const own = await documentsOf('lumen');
    expect(own).toHaveLength(2);
    const links = tags(page.body, 'a').map((a) => a.href);
    for (const document of own) {
      expect(links).toContain(`/vendor/invoices/${document.id}`);
      expect(links).toContain(`/vendor/invoices/${document.id}/pdf`);
      const html = await client.get(`/vendor/invoices/${document.id}`);
      expect(html.statusCode).toBe(200);
      expect(accessibilityProblems(html.body)).toEqual([]);
      expect(textOf(html.body)).toContain(document.number);
      const pdf = await client.get(`/vendor/invoices/${document.id}/pdf`);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      const pdfContent = await pdfText(pdf.rawPayload);
      expect(pdfContent).toContain(document.number);
      expect(pdfContent).toContain('Lumen Labs');
    }
  });

  test("two vendors: B's session never shows A's orders or documents; A's URLs are 404 to B", async () => {
    // A refund of B's sale: B sees it and its credit note, A nothing of it.
    const order = (await ordersRepository(store.db).byId(presets.orderId))!;
    await store.db.transaction((tx) =>
      bookRefund(tx, context(store), order, { reason: 'wrong pack', at: store.clock.now() }),
    );
    const b = await signIn(tokens.presetco.token);
    const page = await b.get('/vendor');
    const text = textOf(page.body);
    expect(text).toContain('Dashboard of Preset Co');
    expect(text).toContain(`Refunds to customers ${formatMoney(1900, 'USD')}`);
    expect(text).toContain(`Net to you ${formatMoney(0, 'USD')}`);
    expect(page.body).toContain(presets.orderId);
    const bDocuments = await documentsOf('presetco');
    expect(bDocuments.map((d) => d.kind).sort()).toEqual(['credit_note', 'invoice']);
    for (const document of bDocuments) expect(page.body).toContain(document.number);

    const aDocuments = await documentsOf('lumen');
    for (const purchase of purchases) expect(page.body).not.toContain(purchase.orderId);
    for (const document of aDocuments) {
      expect(page.body).not.toContain(document.number);
      for (const url of [
        `/vendor/invoices/${document.id}`,
        `/vendor/invoices/${document.id}/pdf`,
      ]) {
        const response = await b.get(url);
        expect(response.statusCode, url).toBe(404);
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(response.body).not.toContain(document.number);
        expect(accessibilityProblems(response.body)).toEqual([]);
      }
    }
    expect((await b.get('/vendor/invoices/inv_nothing')).statusCode).toBe(404);
    // And the other way round.
    const a = await signIn(tokens.lumen.token);
    const aPage = await a.get('/vendor');
    expect(aPage.body).not.toContain(presets.orderId);
    for (const document of bDocuments) {
      expect(aPage.body).not.toContain(document.number);
      expect((await a.get(`/vendor/invoices/${document.id}/pdf`)).statusCode).toBe(404);
    }
  });

  test('without a session nothing is shown; sign-out needs the CSRF token; revoking the token ends the session', async () => {
    const [document] = await documentsOf('lumen');
    const anonymous = browser();
    const html = await anonymous.get(`/vendor/invoices/${document!.id}`);
    expect(html.statusCode).toBe(303);
    expect(html.headers.location).toBe('/vendor');
    expect((await anonymous.get(`/vendor/invoices/${document!.id}/pdf`)).statusCode).toBe(303);
    expect((await anonymous.post('/vendor/sign-out', {})).statusCode).toBe(401);

    const client = await signIn(tokens.lumen.token);
    const page = await client.get('/vendor');
    expect((await client.post('/vendor/sign-out', {})).statusCode).toBe(403);
    const out = await client.post('/vendor/sign-out', formFields(page.body, '/vendor/sign-out'));
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/vendor?done=signed-out');
    expect(textOf((await client.get('/vendor?done=signed-out')).body)).toContain(
      'You are signed out.',
    );
    expect((await client.get(`/vendor/invoices/${document!.id}`)).statusCode).toBe(303);

    const again = await signIn(tokens.lumen.token);
    expect((await again.get(`/vendor/invoices/${document!.id}`)).statusCode).toBe(200);
    await revokeVendorToken(store.db, context(store), 'lumen', tokens.lumen.id);
    expect((await again.get(`/vendor/invoices/${document!.id}`)).statusCode).toBe(303);
    const refused = await again.submit('/vendor', '/vendor/sign-in', {
      token: tokens.lumen.token,
    });
    expect(refused.statusCode).toBe(401);
  });
});
