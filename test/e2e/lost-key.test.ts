/**
 * A lost license key, in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core) against a store started in-process on a free port, PGlite in a
 * temporary directory, and mail going over SMTP to the development server inside the
 * store (no SMTP_URL): a newcomer buys a plan on the storefront, finds the receipt with
 * the key on the dev mail page, loses the key (a new browser, no session), signs in with an
 * e-mail link read from the dev mail page, replaces the key, and the new key works on the
 * status API while the old one is refused. No CSP violation, no request off the store's
 * origin, no key in a URL or a log line, and the link's token in no log line either.
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

const missing = chromiumMissing('lost-key e2e test');

const KEY = /LK-[0-9A-Z]{5}(?:-[0-9A-Z]{1,5}){6}/;

describe.skipIf(missing)('a lost license key, replaced through an e-mail link', () => {
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
    dataDir = mkdtempSync(join(tmpdir(), 'licensekit-lost-key-'));
    store = await startStore(
      {
        port: 0,
        dataDir,
        seedDemo: true,
        adminToken: 'e2e-admin-token',
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
  const newBrowser = async () =>
    (
      await watchedPage(
        browser,
        { contexts, problems, urls, foreign, violations },
        { origin: store.url },
      )
    ).page;

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

  const status = (key: string) =>
    fetch(`${store.url}/v1/licenses/status`, { headers: { authorization: `Bearer ${key}` } });

  test('buy, read the receipt, lose the key, sign in by e-mail, replace it', async () => {
    const email = 'newcomer@example.com';

    // ---- a newcomer buys Pro on the storefront
    const shop = await newBrowser();
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

    // ---- the receipt is in the dev mail page, with the same key in both parts
    const receipt = await openMail(shop, 'Your Photon license key');
    expect(receipt).toContain(shown);
    expect(await text(shop, '#mail-html')).toContain(`<code>${shown}</code>`);
    expect(await shop.locator('#mail-html img').count()).toBe(0);

    // ---- the key is lost: a new browser without a session; the portal asks for the key
    const lost = await newBrowser();
    await lost.goto(`${store.url}/portal`);
    await lost.getByRole('link', { name: 'Sign in with an e-mail link' }).click();
    await lost.getByRole('heading', { level: 1, name: 'Sign in with an e-mail link' }).waitFor();
    await lost.getByLabel('E-mail address').fill(email);
    await lost.getByRole('button', { name: 'Send me a sign-in link' }).click();
    await lost.getByRole('heading', { level: 1, name: 'Check your e-mail' }).waitFor();
    expect(await text(lost)).toContain(`If ${email} is the address of a customer`);

    // ---- the link, from the dev mail page, opens the portal after one click
    const linkMail = await openMail(lost, 'Sign in to the acme store');
    const link = /(http:\/\/\S+\/portal\/link\?token=([\w-]{43}))/.exec(linkMail);
    expect(link).not.toBeNull();
    const token = link![2]!;
    await lost.getByRole('link', { name: link![1]! }).click();
    await lost.getByRole('heading', { level: 1, name: 'Sign in to the customer portal' }).waitFor();
    expect(await text(lost)).toContain('Photon – Pro (Active), key ending in');
    await lost.getByRole('button', { name: 'Sign in' }).click();
    await lost.waitForURL(`${store.url}/portal/license`);
    expect(await text(lost)).toContain('Your Photon license');

    // ---- replace the key: shown once; the old one is refused, the new one works
    await lost.getByRole('button', { name: 'Replace my license key' }).click();
    await lost.getByRole('heading', { level: 1, name: 'Your new license key' }).waitFor();
    const replaced = await text(lost, '#license-key');
    expect(replaced).toMatch(KEY);
    expect(replaced).not.toBe(shown);
    expect((await status(shown)).status).toBe(404);
    const fresh = await status(replaced);
    expect(fresh.status).toBe(200);
    expect(await fresh.json()).toMatchObject({ status: 'active', plan: 'pro-monthly' });

    // ---- the link was single use; the customer was told of the replacement
    await lost.goto(link![1]!);
    expect(await text(lost, 'h1')).toBe('This sign-in link no longer works');
    const notice = await openMail(lost, 'The license key of your Photon license was replaced');
    expect(notice).toContain(`The new key ends in ${replaced.replace(/-/g, '').slice(-4)}`);
    expect(notice).not.toContain(replaced);

    // ---- what the browsers did, and what the store logged
    expect(foreign).toEqual([]);
    expect(violations).toEqual([]);
    // The used link's page is a 410 on purpose; Chromium logs every 4xx document.
    expect(problems.filter((line) => !/status of 410 \(Gone\)/.test(line))).toEqual([]);
    for (const url of urls) {
      for (const key of [shown, replaced]) {
        expect(url).not.toContain(key);
        expect(decodeURIComponent(url).replace(/-/g, '')).not.toContain(key.replace(/-/g, ''));
      }
    }
    expect(logLines.some((line) => line.includes('"mail sent"'))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(shown);
      expect(line).not.toContain(replaced);
      expect(line).not.toContain(token);
    }
  });
});
