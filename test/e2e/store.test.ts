/**
 * The store's pages in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core), against a store started in-process on a free port with PGlite in a
 * temporary data directory: buy Pro with the test provider, read the license key shown
 * once, download the token and verify it with @licensekit/verifier, sign in to the portal,
 * see usage reported by a device, upgrade and see the prorated charge, cancel and see the
 * effective date, deactivate the device. The browser must see no CSP violation, log no
 * error, and never carry the license key in a URL.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Ed25519PublicJwk } from '../../packages/core/src/index.js';
import { createDeviceProof, jwkThumbprint } from '../../packages/core/src/index.js';
import type { RunningStore } from '../../packages/store/src/index.js';
import { startStore } from '../../packages/store/src/index.js';
import { formatMoney } from '../../packages/store/src/views/format.js';
import type { DeviceKey } from '../../packages/verifier/src/index.js';
import { createVerifier } from '../../packages/verifier/src/index.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';
import { capturedLogs } from './support/log-capture.js';

const missing = chromiumMissing('store e2e test');

/** What the browser did besides rendering: every URL, console line, error and CSP report. */
interface Watch {
  urls: string[];
  foreign: string[];
  console: string[];
  pageErrors: string[];
  violations: unknown[];
}

/** An Ed25519 device key in node:crypto, shaped as the verifier's DeviceKey. */
async function nodeDeviceKey(): Promise<DeviceKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string };
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
  return {
    thumbprint: await jwkThumbprint(publicJwk),
    publicJwk,
    async sign(data: Uint8Array) {
      return new Uint8Array(sign(null, data, privateKey));
    },
  };
}

describe.skipIf(missing)('the storefront and customer portal in headless Chromium', () => {
  let dataDir: string;
  let store: RunningStore;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const logLines: string[] = [];
  const watch: Watch = { urls: [], foreign: [], console: [], pageErrors: [], violations: [] };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'licensekit-store-e2e-'));
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    context = await browser.newContext({ acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: store.url });
    // CSP violations of every document, reported out of the page (the binding and the
    // init script are injected by the browser, not by the page, so the CSP does not apply).
    await context.exposeFunction('reportCspViolation', (violation: unknown) => {
      watch.violations.push(violation);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        (window as unknown as { reportCspViolation(v: unknown): void }).reportCspViolation({
          directive: event.violatedDirective,
          blocked: event.blockedURI,
          source: event.sourceFile,
        });
      });
    });
    const origin = new URL(store.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      watch.foreign.push(url);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('request', (request) => watch.urls.push(request.url()));
    page.on('framenavigated', (frame) => watch.urls.push(frame.url()));
    page.on('console', (message) => watch.console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => watch.pageErrors.push(String(error)));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}) => fetch(`${store.url}${path}`, init);
  const withKey = (key: string, init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string>),
    },
  });
  /** The text of an element as a reader sees it (rendered: hidden text left out). */
  const text = async (selector = 'main') =>
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
    (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();

  /** Rules every page keeps, checked on the live DOM. */
  async function checkPage(): Promise<void> {
    const facts = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      h1: document.querySelectorAll('h1').length,
      unlabelled: [...document.querySelectorAll('input, select, textarea')]
        .filter((element) => (element as HTMLInputElement).type !== 'hidden')
        .filter((element) => (element as HTMLInputElement).labels?.length === 0)
        .map((element) => element.outerHTML),
      inlineScripts: [...document.scripts].filter((script) => !script.src).length,
      styled: document.querySelectorAll('[style]').length,
    }));
    expect(facts).toEqual({ lang: 'en', h1: 1, unlabelled: [], inlineScripts: 0, styled: 0 });
  }

  test('buy, verify the token, sign in, see usage, upgrade, cancel, deactivate', async () => {
    // ---- storefront: the product list, the product, the checkout form
    await page.goto(`${store.url}/`);
    await checkPage();
    await page.getByRole('link', { name: 'See the plans of Photon', exact: true }).click();
    await page.waitForURL(`${store.url}/products/photon`);
    await checkPage();
    expect(await text('.test-banner')).toContain('TEST MODE');
    await page.getByLabel('Pro – $15.00 per month').check();
    await page.getByLabel('Email address').fill('e2e@example.com');
    await page.getByRole('button', { name: 'Place test order' }).click();
    await page
      .getByRole('heading', { level: 1, name: 'Thank you – your license is ready' })
      .waitFor();
    await checkPage();

    // ---- the key, shown once
    const key = await text('#license-key');
    expect(key).toMatch(/^LK-[0-9A-Z-]+$/);
    expect(await text()).toContain('it will not be shown again');
    expect(await text()).toContain('License status Active');
    // The script revealed the copy button; it copies the key.
    const copy = page.getByRole('button', { name: 'Copy the key' });
    expect(await copy.isVisible()).toBe(true);
    await copy.click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    const status = await (await api('/v1/licenses/status', withKey(key))).json();
    expect(status).toMatchObject({ status: 'active', plan: 'pro-monthly', test: true });
    const licenseId = status.license as string;

    // ---- the token download, verified offline against the root key from /v1/keys
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download your license token' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`photon-${licenseId}.lic`);
    const token = readFileSync((await download.path())!, 'utf8');
    const keys = await (await api('/v1/keys')).json();
    const verifier = createVerifier({ trust: { roots: keys.roots }, product: 'photon' });
    expect(await verifier.verify(token)).toMatchObject({ valid: true, status: 'active' });

    // ---- sign out, then in again with the key
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await checkPage();
    await page.getByLabel('License key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${store.url}/portal/license`);
    await checkPage();
    expect(await text()).toContain('Your Photon license');
    expect(await text()).toContain('Status Active');
    expect(await text()).not.toContain(key);

    // ---- a device activates and reports usage through the API, the portal shows it
    const device = await nodeDeviceKey();
    const activateBody = JSON.stringify({
      device: { publicJwk: device.publicJwk, name: 'e2e-laptop' },
    });
    const activated = await api(
      '/v1/licenses/activate',
      withKey(key, {
        method: 'POST',
        body: activateBody,
        headers: {
          dpop: await createDeviceProof(device, {
            method: 'POST',
            url: `${store.url}/v1/licenses/activate`,
            body: activateBody,
          }),
        },
      }),
    );
    expect(activated.status).toBe(200);
    const bound = (await activated.json()).token as string;
    const app = createVerifier({ trust: { roots: keys.roots }, product: 'photon', device });
    expect((await app.consume(bound, 'exports', 7)).granted).toBe(true);
    const report = await app.usageReport(bound);
    const usage = await api('/v1/licenses/usage', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signed: report.signed }),
    });
    expect(usage.status).toBe(202);
    await page.reload();
    const usageRow = await text('#usage + table tbody tr');
    expect(usageRow).toMatch(/^exports 1,000 7 993 /);
    expect(await text()).toContain('e2e-laptop');

    // ---- upgrade to Team: the preview shows the prorated charge the API quotes
    await page.getByLabel('Team – $120.00 per seat per year').check();
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByRole('heading', { level: 1, name: 'Review your plan change' }).waitFor();
    await checkPage();
    const previewed = await text('#prorated-amount');
    const quote = await (
      await api(
        '/v1/licenses/plan',
        withKey(key, {
          method: 'POST',
          body: JSON.stringify({ planId: 'team-yearly', confirm: false }),
        }),
      )
    ).json();
    expect(previewed).toBe(formatMoney(quote.amount, quote.currency));
    // Bought seconds ago: the whole $15.00 is credited against 5 seats × $120.00.
    expect(previewed).toBe('$585.00');
    await page.getByRole('button', { name: `Confirm and pay ${previewed}` }).click();
    await page.getByRole('heading', { level: 1, name: 'Plan changed' }).waitFor();
    await checkPage();
    expect(await text('#charged-amount')).toBe(`${previewed} (test payment, no money moved)`);
    expect(await text()).toContain('You are now on the Team plan with 5 seats');

    // ---- cancel: the confirmation and the result show the effective date
    await page.getByRole('link', { name: 'Back to your license' }).click();
    await page.getByRole('link', { name: 'Cancel the Team plan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Cancel the Team plan?' }).waitFor();
    await checkPage();
    expect(await text()).toContain('The license moves to the Free plan (free).');
    await page.getByRole('button', { name: 'Cancel the Team plan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your plan is cancelled' }).waitFor();
    await checkPage();
    const after = await (await api('/v1/licenses/status', withKey(key))).json();
    expect(after.pendingChange).toMatchObject({ kind: 'cancel', plan: 'free' });
    expect(await page.locator('#cancel-effective time').getAttribute('datetime')).toBe(
      after.pendingChange.at,
    );
    expect(after.pendingChange.at).toBe(after.expiresAt);

    // ---- deactivate the device
    await page.getByRole('link', { name: 'Back to your license' }).click();
    await page.getByRole('button', { name: 'Deactivate e2e-laptop' }).click();
    await page.getByText('The device was deactivated').waitFor();
    await checkPage();
    expect(await text()).toContain('No device is activated.');
    expect(await page.getByRole('button', { name: /^Deactivate/ }).count()).toBe(0);
    expect((await (await api('/v1/licenses/status', withKey(key))).json()).devicesInUse).toBe(0);

    // ---- what the browser did: nothing off-origin, no CSP violation, no error, no key in a URL
    expect(watch.foreign).toEqual([]);
    expect(watch.violations).toEqual([]);
    expect(
      watch.console.filter((line) => /Content Security Policy|Refused to/i.test(line)),
    ).toEqual([]);
    expect(watch.console.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.urls.length).toBeGreaterThan(20);
    const compact = key.replace(/-/g, '');
    for (const url of watch.urls) {
      expect(url).not.toContain(key);
      expect(decodeURIComponent(url).replace(/-/g, '')).not.toContain(compact);
    }
    // Nor in a log line of the store.
    expect(logLines.length).toBeGreaterThan(20);
    for (const line of logLines) expect(line).not.toContain(key);

    // The positive control of "no violations": an inline script is refused and reported.
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
    });
    await expect
      .poll(() => watch.violations)
      .toEqual([expect.objectContaining({ directive: 'script-src-elem' })]);
    expect(await page.evaluate(() => 'inlineRan' in window)).toBe(false);
  });
});
