/**
 * Issue 12's "Done when", in one real headless Chromium run (Debian's /usr/bin/chromium
 * driven by playwright-core) against a store started in-process on a free port (PGlite in
 * a temporary directory, mail over SMTP to the development server inside the store): a
 * newcomer buys a plan on the storefront, finds the receipt with the key on the dev mail
 * page, loses the key, recovers access with an e-mail link, replaces the key — and an
 * operator signs in to the admin screen with the admin token, finds the order by the
 * customer's e-mail, re-sends the receipt (a copy without the key) and refunds the order,
 * revoking its license. The effects are read back through the admin API and the status
 * API, the mails through the dev mail page. No CSP violation, no request off the store's
 * origin, no key or admin token in a URL, a cookie or a log line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningStore } from '../../packages/store/src/index.js';
import { startStore } from '../../packages/store/src/index.js';
import { launchChromium, pageText, watchedPage } from './support/browser.js';
import { chromiumMissing } from './support/chromium.js';
import { capturedLogs } from './support/log-capture.js';

const missing = chromiumMissing('newcomer e2e test');

const KEY = /LK-[0-9A-Z]{5}(?:-[0-9A-Z]{1,5}){6}/;
const ADMIN_TOKEN = 'e2e-newcomer-admin-token-5f0c2a';

describe.skipIf(missing)('a newcomer buys, loses the key, recovers it; an operator refunds', () => {
  let dataDir: string;
  let store: RunningStore;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const logLines: string[] = [];
  const urls: string[] = [];
  const foreign: string[] = [];
  const problems: string[] = [];
  const violations: unknown[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'licensekit-newcomer-'));
    store = await startStore(
      {
        port: 0,
        dataDir,
        seedDemo: true,
        adminToken: ADMIN_TOKEN,
        logger: capturedLogs(logLines),
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      },
      false,
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh browser profile (no cookies), watched: URLs, foreign requests, errors, CSP. */
  const newBrowser = () =>
    watchedPage(browser, { contexts, problems, urls, foreign, violations }, { origin: store.url });

  const text = pageText;

  /** Opens the newest mail with this subject on the dev mail page (waiting for it to arrive). */
  async function openMail(page: Page, subject: string): Promise<string> {
    await expect
      .poll(
        async () => {
          await page.goto(`${store.url}/dev/mail`);
          return page.getByRole('link', { name: subject, exact: true }).count();
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    await page.getByRole('link', { name: subject, exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: subject }).waitFor();
    return text(page, '#mail-text');
  }

  const admin = async (path: string) => {
    const response = await fetch(`${store.url}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status, path).toBe(200);
    return response.json();
  };
  const status = (key: string) =>
    fetch(`${store.url}/v1/licenses/status`, { headers: { authorization: `Bearer ${key}` } });

  test('the whole path, in one run', async () => {
    const email = 'first.time.buyer@example.com';

    // ---- a newcomer buys Pro on the storefront and is shown the key once
    const { page: shop } = await newBrowser();
    await shop.goto(`${store.url}/`);
    await shop.getByRole('link', { name: 'See the plans of Photon', exact: true }).click();
    await shop.getByLabel('Pro – $15.00 per month').check();
    await shop.getByLabel('Email address').fill(email);
    await shop.getByRole('button', { name: 'Place test order' }).click();
    await shop
      .getByRole('heading', { level: 1, name: 'Thank you – your license is ready' })
      .waitFor();
    const shown = await text(shop, '#license-key');
    expect(shown).toMatch(KEY);

    // ---- the receipt arrives (dev mail page) with the key and the order
    const receipt = await openMail(shop, 'Your Photon license key');
    expect(receipt).toContain(shown);
    expect(receipt).toContain('Charged: $15.00 (test payment, no money moved)');
    const orderId = /Order: (ord_[\w-]+)/.exec(receipt)![1]!;
    expect(await shop.locator('#mail-html img').count()).toBe(0);

    // ---- the key is lost: a new browser; sign in with an e-mail link
    const { page: lost } = await newBrowser();
    await lost.goto(`${store.url}/portal`);
    await lost.getByRole('link', { name: 'Sign in with an e-mail link' }).click();
    await lost.getByLabel('E-mail address').fill(email);
    await lost.getByRole('button', { name: 'Send me a sign-in link' }).click();
    await lost.getByRole('heading', { level: 1, name: 'Check your e-mail' }).waitFor();
    const linkMail = await openMail(lost, 'Sign in to the acme store');
    const link = /(http:\/\/\S+\/portal\/link\?token=([\w-]{43}))/.exec(linkMail)!;
    const linkToken = link[2]!;
    await lost.getByRole('link', { name: link[1]! }).click();
    await lost.getByRole('button', { name: 'Sign in' }).click();
    await lost.waitForURL(`${store.url}/portal/license`);

    // ---- replace the key: the old one stops working, the new one works
    await lost.getByRole('button', { name: 'Replace my license key' }).click();
    await lost.getByRole('heading', { level: 1, name: 'Your new license key' }).waitFor();
    const replaced = await text(lost, '#license-key');
    expect(replaced).toMatch(KEY);
    expect(replaced).not.toBe(shown);
    expect((await status(shown)).status).toBe(404);
    expect((await status(replaced)).status).toBe(200);
    const notice = await openMail(lost, 'The license key of your Photon license was replaced');
    expect(notice).toContain(`The new key ends in ${replaced.replace(/-/g, '').slice(-4)}`);

    // ---- an operator signs in to the admin screen (a wrong token first)
    const { page: desk, context: deskContext } = await newBrowser();
    await desk.goto(`${store.url}/admin`);
    await desk.getByLabel('Admin token').fill('not-the-token');
    await desk.getByRole('button', { name: 'Sign in' }).click();
    expect(await text(desk, '.error-summary')).toContain('This is not the admin token');
    await desk.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await desk.getByRole('button', { name: 'Sign in' }).click();
    await desk.getByRole('heading', { level: 1, name: 'Orders' }).waitFor();
    const cookies = await deskContext.cookies();
    const session = cookies.find((cookie) => cookie.name === 'lk_admin')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(JSON.stringify(cookies)).not.toContain(ADMIN_TOKEN);

    // ---- finds the order by the customer's e-mail and opens it
    await desk.getByLabel('Customer e-mail').fill(email);
    await desk.getByRole('button', { name: 'Filter' }).click();
    await desk.getByRole('link', { name: orderId }).click();
    await desk.getByRole('heading', { level: 1, name: `Order ${orderId}` }).waitFor();
    expect(await text(desk)).toContain(email);

    // ---- re-sends the receipt: the customer gets a copy without any key
    await desk.getByRole('button', { name: 'Re-send the receipt' }).click();
    expect(await text(desk, '.notice')).toContain('A copy of the receipt is on its way');
    const { page: inbox } = await newBrowser();
    const copy = await openMail(inbox, 'Your Photon receipt (copy)');
    expect(copy).toContain(
      `It cannot contain your license key (the key ending in ${replaced.replace(/-/g, '').slice(-4)})`,
    );
    expect(copy).toContain(`Order: ${orderId}`);
    expect(copy).not.toMatch(KEY);

    // ---- refunds it: a confirmation first, then the order is refunded, the license revoked
    await desk.getByRole('link', { name: 'Refund this order…' }).click();
    await desk.getByRole('heading', { level: 1, name: `Refund order ${orderId}?` }).waitFor();
    expect(await text(desk)).toContain('This is a test order: no money moved');
    expect(await desk.getByLabel(/Also revoke license/).isChecked()).toBe(true);
    await desk.getByLabel('Reason (optional, kept in the activity log)').fill('Bought by mistake');
    await desk.getByRole('button', { name: 'Refund $15.00' }).click();
    await desk.getByRole('heading', { level: 1, name: `Order ${orderId}` }).waitFor();
    expect(await text(desk, '.notice')).toBe('The order is refunded and its license revoked.');

    const order = await admin(`/v1/admin/orders/${orderId}`);
    expect(order).toMatchObject({ status: 'refunded', customerEmail: email });
    const license = (await admin(`/v1/admin/licenses/${order.licenseId}`)).license;
    expect(license.status).toBe('revoked');
    expect((await status(replaced)).status).toBe(403);
    const refunded = await admin(`/v1/admin/orders?status=refunded&customerEmail=${email}`);
    expect(refunded.orders.map((o: { id: string }) => o.id)).toEqual([orderId]);

    // ---- the activity log says who did what
    await desk
      .getByRole('navigation', { name: 'Admin' })
      .getByRole('link', { name: 'Activity' })
      .click();
    const activity = await text(desk);
    expect(activity).toContain(`Refunded order ${orderId}`);
    expect(activity).toContain('reason: Bought by mistake');
    expect(activity).toContain(`Re-sent receipt of order ${orderId}`);
    expect(activity).toContain(`Revoked license ${order.licenseId}`);

    // ---- signing out ends the session
    await desk.getByRole('button', { name: 'Sign out' }).click();
    await desk.getByRole('heading', { level: 1, name: 'Sign in to the store admin' }).waitFor();
    await desk.goto(`${store.url}/admin/orders`);
    await desk.getByRole('heading', { level: 1, name: 'Sign in to the store admin' }).waitFor();

    // ---- what the browsers did, and what the store logged
    expect(foreign).toEqual([]);
    expect(violations).toEqual([]);
    // The wrong token's page is a 401 on purpose; Chromium logs every 4xx document.
    expect(problems.filter((line) => !/status of 401 \(Unauthorized\)/.test(line))).toEqual([]);
    for (const url of urls) {
      for (const secret of [shown, replaced, ADMIN_TOKEN]) {
        expect(decodeURIComponent(url)).not.toContain(secret);
      }
    }
    expect(logLines.some((line) => line.includes('"order refunded"'))).toBe(true);
    for (const line of logLines) {
      for (const secret of [shown, replaced, ADMIN_TOKEN, linkToken]) {
        expect(line).not.toContain(secret);
      }
    }
  });
});
