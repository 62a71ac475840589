/**
 * The marketplace pages in one real headless Chromium run against a store started
 * in-process (PGlite, demo catalogue, mail to the store's development server): two vendors
 * each sell one product; a customer buys from both. Each vendor signs in to /vendor with
 * its token, sees the sales chart and its orders, and downloads an invoice PDF whose text
 * the test reads (pdfjs-dist) — and never sees the other vendor's orders or documents (the
 * other's invoice URL is a 404). The customer signs in to the portal with an e-mail link
 * and sees the licenses and invoices of both vendors. The pages fit a 390 px phone; no CSP
 * violation, no request off the store's origin, no vendor token in a URL or cookie.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningStore } from '../../packages/store/src/index.js';
import { startStore } from '../../packages/store/src/index.js';
import { launchChromium, pageText, watchedPage } from './support/browser.js';
import { chromiumMissing } from './support/chromium.js';
import { StoreClient } from './support/store-client.js';

const missing = chromiumMissing('vendor dashboard e2e test');
const ADMIN_TOKEN = 'e2e-vendor-dashboard-admin-token-7d1e';
const EMAIL = 'buys.from.two.vendors@example.com';

async function pdfText(path: string): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await getDocument({ data: new Uint8Array(readFileSync(path)), verbosity: 0 })
    .promise;
  const page = await document.getPage(1);
  return (await page.getTextContent()).items
    .map((item) => ('str' in item ? item.str : ''))
    .join(' ');
}

describe.skipIf(missing)('two vendors on one store: dashboards, invoices, the portal', () => {
  let dataDir: string;
  let store: RunningStore;
  let browser: Browser;
  let client: StoreClient;
  const contexts: BrowserContext[] = [];
  const urls: string[] = [];
  const foreign: string[] = [];
  const problems: string[] = [];
  const violations: unknown[] = [];
  const tokens: Record<string, string> = {};
  const orders: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'licensekit-vendor-dashboard-'));
    store = await startStore(
      {
        port: 0,
        dataDir,
        seedDemo: true,
        adminToken: ADMIN_TOKEN,
        logger: false,
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      },
      false,
    );
    client = new StoreClient(store.url, ADMIN_TOKEN);
    for (const [id, name, product] of [
      ['lumen', 'Lumen Labs', 'photon'],
      ['presetco', 'Preset Co', 'photon-presets'],
    ] as const) {
      expect((await client.admin('POST', '/v1/admin/vendors', { id, name }))?.status).toBe(201);
      const moved = await client.admin('PUT', `/v1/admin/products/${product}/vendor`, {
        vendorId: id,
      });
      expect(moved?.status).toBe(200);
      const created = await client.admin('POST', `/v1/admin/vendors/${id}/tokens`, {
        label: 'e2e',
      });
      expect(created?.status).toBe(201);
      tokens[id] = created!.body.token;
    }
    for (const [vendor, productId, planId] of [
      ['lumen', 'photon', 'pro-monthly'],
      ['presetco', 'photon-presets', 'pack-50'],
    ] as const) {
      const bought = await client.checkout({ productId, planId, email: EMAIL });
      expect(bought?.status).toBe(201);
      orders[vendor] = bought!.body.order.id;
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    if (narrow.length > 0) {
      console.info(
        `pages at 390 px (scrollWidth):\n${narrow.map((m) => `  ${m.scrollWidth}  ${m.page}`).join('\n')}`,
      );
    }
    for (const context of contexts) await context.close();
    await browser?.close();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh browser profile (no cookies), watched: URLs, foreign requests, errors, CSP. */
  const newBrowser = () =>
    watchedPage(
      browser,
      { contexts, problems, urls, foreign, violations },
      {
        origin: store.url,
        context: { acceptDownloads: true },
        // The wrong token (401) and the other vendor's invoice (404) are answers the test asks for.
        expectedErrors: /^Failed to load resource: the server responded with a status of 40[14]\b/,
      },
    );

  const text = pageText;

  /** No sideways scrolling at 390 px (the phone test's rule, test/e2e/pages-mobile.test.ts). */
  const narrow: { page: string; scrollWidth: number }[] = [];
  async function fitsAPhone(page: Page, name: string): Promise<void> {
    const size = page.viewportSize();
    await page.setViewportSize({ width: 390, height: 844 });
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    narrow.push({ page: name, scrollWidth });
    if (size) await page.setViewportSize(size);
  }

  /** Clicks a download link and reads the PDF's text. */
  async function downloadPdf(page: Page, link: ReturnType<Page['getByRole']>): Promise<string> {
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const path = await download.path();
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-');
    return pdfText(path);
  }

  async function signInAsVendor(page: Page, token: string): Promise<void> {
    await page.goto(`${store.url}/vendor`);
    await page.getByLabel('Vendor token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: /^Dashboard of / }).waitFor();
  }

  test('each vendor sees its own sales and invoices; the customer sees both in the portal', async () => {
    const invoices = (await client.admin('GET', '/v1/admin/invoices'))!.body.invoices as {
      id: string;
      number: string;
      vendorId: string;
      orderId: string;
    }[];
    const invoiceOf = (vendor: string) => invoices.find((invoice) => invoice.vendorId === vendor)!;

    // ---- the storefront, by vendor
    const { page: shop } = await newBrowser();
    await shop.goto(`${store.url}/`);
    await shop.getByRole('heading', { level: 2, name: 'Lumen Labs' }).waitFor();
    await shop.getByRole('heading', { level: 2, name: 'Preset Co' }).waitFor();
    await fitsAPhone(shop, 'storefront by vendor');

    // ---- vendor A: a wrong token first, then its own
    const { page: lumen, context: lumenContext } = await newBrowser();
    await lumen.goto(`${store.url}/vendor`);
    await lumen.getByLabel('Vendor token').fill(tokens.presetco!.slice(0, -1));
    await lumen.getByRole('button', { name: 'Sign in' }).click();
    expect(await text(lumen, '.error-summary')).toContain('This is not a vendor token');
    await signInAsVendor(lumen, tokens.lumen!);
    const chart = lumen.getByRole('img', { name: /Gross sales per day, last 30 days, USD/ });
    await chart.waitFor();
    expect(await lumen.locator('.sales-chart rect.chart-bar').count()).toBe(30);
    const dashboard = await text(lumen);
    expect(dashboard).toContain('Dashboard of Lumen Labs');
    expect(dashboard).toContain(orders.lumen);
    expect(dashboard).not.toContain(orders.presetco);
    expect(dashboard).toContain(invoiceOf('lumen').number);
    expect(dashboard).not.toContain(invoiceOf('presetco').number);
    // The chart's table, for those who cannot see the bars.
    await lumen.getByText('The chart as a table').click();
    await lumen.getByRole('table', { name: /Gross sales per day/ }).waitFor();
    await fitsAPhone(lumen, 'vendor dashboard');
    const cookies = await lumenContext.cookies();
    expect(cookies.find((cookie) => cookie.name === 'lk_vendor')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect(JSON.stringify(cookies)).not.toContain(tokens.lumen!);

    // Its invoice: the printable page, then the PDF.
    await lumen
      .getByRole('link', { name: `Invoice ${invoiceOf('lumen').number}`, exact: true })
      .click();
    await lumen
      .getByRole('heading', { level: 1, name: `Invoice ${invoiceOf('lumen').number}` })
      .waitFor();
    await fitsAPhone(lumen, 'vendor: invoice page');
    const lumenPdf = await downloadPdf(lumen, lumen.getByRole('link', { name: 'Download PDF' }));
    expect(lumenPdf).toContain(invoiceOf('lumen').number);
    expect(lumenPdf).toContain('Lumen Labs');
    expect(lumenPdf).toContain(EMAIL);
    expect(lumenPdf).toContain('$15.00');

    // ---- vendor B: its own only; A's invoice is a 404 to it
    const { page: presetco } = await newBrowser();
    await signInAsVendor(presetco, tokens.presetco!);
    const other = await text(presetco);
    expect(other).toContain('Dashboard of Preset Co');
    expect(other).toContain(orders.presetco);
    expect(other).not.toContain(orders.lumen);
    expect(other).not.toContain(invoiceOf('lumen').number);
    await presetco.getByRole('img', { name: /Gross sales per day/ }).waitFor();
    const stolen = await presetco.goto(`${store.url}/vendor/invoices/${invoiceOf('lumen').id}`);
    expect(stolen?.status()).toBe(404);
    expect(await text(presetco)).not.toContain(invoiceOf('lumen').number);
    const stolenPdf = await presetco.request.get(
      `${store.url}/vendor/invoices/${invoiceOf('lumen').id}/pdf`,
    );
    expect(stolenPdf.status()).toBe(404);
    await presetco.goto(`${store.url}/vendor`);
    const presetPdf = await downloadPdf(
      presetco,
      presetco.getByRole('link', { name: `PDF of Invoice ${invoiceOf('presetco').number}` }),
    );
    expect(presetPdf).toContain(invoiceOf('presetco').number);
    expect(presetPdf).toContain('$19.00');
    await presetco.getByRole('button', { name: 'Sign out' }).click();
    await presetco.getByRole('heading', { level: 1, name: 'Vendor sign-in' }).waitFor();

    // ---- the customer: e-mail link sign-in, then both vendors' licenses and invoices
    const { page: customer } = await newBrowser();
    await customer.goto(`${store.url}/portal/email`);
    await customer.getByLabel('E-mail address').fill(EMAIL);
    await customer.getByRole('button', { name: 'Send me a sign-in link' }).click();
    await customer.getByRole('heading', { level: 1, name: 'Check your e-mail' }).waitFor();
    let link: string | undefined;
    await expect
      .poll(
        async () => {
          await customer.goto(`${store.url}/dev/mail`);
          const mail = customer.getByRole('link', { name: 'Sign in to the acme store' });
          if ((await mail.count()) === 0) return false;
          await mail.first().click();
          link = /(http:\/\/\S+\/portal\/link\?token=[\w-]{43})/.exec(
            await text(customer, '#mail-text'),
          )?.[1];
          return link !== undefined;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await customer.goto(link!);
    await customer.getByLabel(/^Photon – Pro/).check();
    await customer.getByRole('button', { name: 'Sign in' }).click();
    await customer.waitForURL(`${store.url}/portal/license`);
    await customer.getByRole('link', { name: 'All your licenses' }).click();
    await customer.getByRole('heading', { level: 1, name: 'Your licenses' }).waitFor();
    const licenses = await text(customer);
    for (const name of ['Photon', 'Lumen Labs', 'Photon Preset Packs', 'Preset Co']) {
      expect(licenses).toContain(name);
    }
    await fitsAPhone(customer, 'portal: licenses');
    await customer.getByRole('link', { name: 'Invoices', exact: true }).click();
    await customer.getByRole('heading', { level: 1, name: 'Your invoices' }).waitFor();
    const listed = await text(customer);
    expect(listed).toContain(invoiceOf('lumen').number);
    expect(listed).toContain(invoiceOf('presetco').number);
    await fitsAPhone(customer, 'portal: invoices');
    const customerPdf = await downloadPdf(
      customer,
      customer.getByRole('link', { name: `PDF of Invoice ${invoiceOf('presetco').number}` }),
    );
    expect(customerPdf).toContain('Preset Co');
    await customer
      .getByRole('link', { name: `Invoice ${invoiceOf('lumen').number}`, exact: true })
      .click();
    await customer
      .getByRole('heading', { level: 1, name: `Invoice ${invoiceOf('lumen').number}` })
      .waitFor();
    await fitsAPhone(customer, 'portal: invoice page');
    // Opening the other vendor's license from the list.
    await customer.goto(`${store.url}/portal/licenses`);
    await customer.getByRole('button', { name: /^Open Photon Preset Packs/ }).click();
    await customer
      .getByRole('heading', { level: 1, name: 'Your Photon Preset Packs license' })
      .waitFor();

    // ---- what every page kept to
    expect(narrow.filter((measure) => measure.scrollWidth > 390)).toEqual([]);
    expect(violations).toEqual([]);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    for (const token of Object.values(tokens)) {
      for (const url of urls) expect(url).not.toContain(token);
    }
  });
});
