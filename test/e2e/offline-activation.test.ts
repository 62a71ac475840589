/**
 * Offline activation end to end in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core), with a real store on 127.0.0.1 (startStore, PGlite in a temporary
 * directory, the demo catalogue):
 *
 * - the app: a page under `script-src 'self'` built on the browser bundles
 *   (licensekit-verifier.js and licensekit-verifier-offline.js) that never reaches the
 *   network — every request to another origin than its own, the store's included, is
 *   refused and recorded. It writes an activation request as text and a QR code, with a
 *   device key in IndexedDB and its state in localStorage;
 * - the online machine: the customer signs in to the store's portal and brings the
 *   request to its offline page (/portal/license/offline) — a screenshot of the app's QR
 *   code, or the pasted text —, checks the preview, confirms, and carries the response
 *   text back (the file download holds the same text);
 * - the app imports it and verifies offline; the license survives a reload;
 * - then a refresh carries the usage spent offline back: the portal's preview shows it
 *   before confirming, and the license page after.
 *
 * The QR code the page draws is scanned: rendered on a canvas of a blank page (as a phone's
 * camera would see the screen) and decoded with jsQR, an independent decoder.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';
import { buildBrowserBundle } from './support/bundle.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';
import { type StaticSite, serveSite } from './support/static-server.js';

const missing = chromiumMissing('offline activation e2e test');

/** jsQR, a devDependency of the verifier package (its unit tests decode codes with it). */
const jsQR = createRequire(join(repoRoot, 'packages/verifier/package.json'))('jsqr') as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

interface LicenseView {
  valid?: boolean;
  status: string;
  license?: string | null;
  device?: string | null;
  quotas?: Record<string, { used: number }>;
}

describe.skipIf(missing)('offline activation: an app that never goes online, and the store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-offline-e2e-'));
  let store: RunningStore;
  let bundleDir: string;
  let site: StaticSite;
  let browser: Browser;
  let context: BrowserContext;
  let app: Page;
  let portal: Page;
  let licenseKey: string;
  let licenseId: string;
  const foreign: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    store = await startStore(
      {
        port: 0,
        dataDir: join(dir, 'store'),
        seedDemo: true,
        adminToken: 'offline-e2e-admin',
        logger: false,
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      },
      false,
    );
    const bought = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'offline-e2e-1' },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'ada@example.com',
      }),
    });
    expect(bought.status).toBe(201);
    ({ key: licenseKey, id: licenseId } = (
      (await bought.json()) as {
        license: { key: string; id: string };
      }
    ).license);

    bundleDir = buildBrowserBundle();
    site = await serveSite({
      fixturesDir: join(repoRoot, 'test/e2e/fixtures/offline'),
      bundleDir,
      tokens: { root: store.rootPublicJwk, product: 'photon' },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    context = await browser.newContext();
    // The app's machine has no network: only its own origin answers.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === site.origin) return route.continue();
      foreign.push(url);
      return route.abort('blockedbyclient');
    });
    app = await context.newPage();
    app.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    app.on('pageerror', (error) => consoleErrors.push(String(error)));
    await app.goto(`${site.origin}/`);
    await app.locator('#state', { hasText: 'ready' }).waitFor({ timeout: 30_000 });

    // The online machine: another browser profile, signed in to the customer portal.
    portal = await (await browser.newContext({ acceptDownloads: true })).newPage();
    portal.on('pageerror', (error) => consoleErrors.push(`portal: ${String(error)}`));
    await portal.goto(`${store.url}/portal`);
    await portal.getByLabel('License key').fill(licenseKey);
    await portal.getByRole('button', { name: 'Sign in' }).click();
    await portal.waitForURL(`${store.url}/portal/license`);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await store?.close();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  /** Clicks a button of the app and waits for its work to end; fails on the app's error. */
  async function press(id: string): Promise<void> {
    const before = Number(await app.locator('#done').textContent());
    await app.locator(`#${id}`).click();
    await app.waitForFunction(
      (count) => Number(document.getElementById('done')?.textContent) > count,
      before,
      { timeout: 30_000 },
    );
    expect(await app.locator('#error').textContent()).toBe('');
  }

  const json = async <T>(id: string): Promise<T> =>
    JSON.parse((await app.locator(`#${id}`).textContent()) ?? '{}') as T;

  /** Scans the app's QR codes: each SVG drawn on a canvas of a blank page, read by jsQR. */
  async function scanQrCodes(): Promise<string[]> {
    const svgs = await app
      .locator('#qr svg')
      .evaluateAll((nodes) => nodes.map((node) => node.outerHTML));
    const camera = await browser.newPage();
    try {
      const scanned: string[] = [];
      for (const svg of svgs) {
        // 400 × 400 pixels, sent back as one grey byte each (base64): a compact transfer.
        const grey = await camera.evaluate(async (markup) => {
          const image = new Image();
          image.src = `data:image/svg+xml;base64,${btoa(markup)}`;
          await image.decode();
          const canvas = document.createElement('canvas');
          canvas.width = 400;
          canvas.height = 400;
          const context2d = canvas.getContext('2d') as CanvasRenderingContext2D;
          context2d.imageSmoothingEnabled = false;
          context2d.drawImage(image, 0, 0, 400, 400);
          const rgba = context2d.getImageData(0, 0, 400, 400).data;
          let bytes = '';
          for (let i = 0; i < rgba.length; i += 4) bytes += String.fromCharCode(rgba[i] as number);
          return btoa(bytes);
        }, svg);
        const levels = Buffer.from(grey, 'base64');
        const pixels = new Uint8ClampedArray(levels.length * 4);
        for (const [i, level] of levels.entries()) pixels.set([level, level, level, 255], i * 4);
        const decoded = jsQR(pixels, 400, 400);
        scanned.push(decoded?.data ?? '(unreadable)');
      }
      return scanned;
    } finally {
      await camera.close();
    }
  }

  /**
   * The online machine: the portal's offline page turns the request — pasted text, or
   * pictures of its QR codes — into a response. Returns the preview's words and the
   * response text, which the download holds too.
   */
  async function answerInPortal(
    request: { text: string } | { pictures: Buffer[] },
  ): Promise<{ effect: string; usage: string[][]; response: string }> {
    await portal.goto(`${store.url}/portal/license`);
    await portal.getByRole('link', { name: 'Activate or refresh it offline' }).click();
    await portal.getByRole('heading', { level: 1, name: 'Activate a device offline' }).waitFor();
    if ('text' in request) await portal.getByLabel('Paste the request').fill(request.text);
    else {
      await portal.getByLabel('Or choose photos or screenshots of its QR codes').setInputFiles(
        request.pictures.map((buffer, i) => ({
          name: `code-${i + 1}.png`,
          mimeType: 'image/png',
          buffer,
        })),
      );
    }
    await portal.getByRole('button', { name: 'Continue' }).click();
    await portal.getByRole('heading', { level: 1, name: 'Review the offline request' }).waitFor();
    const effect = ((await portal.locator('#offline-effect').textContent()) ?? '').trim();
    const rows = portal.locator('#reported-usage ~ * table tbody tr');
    const usage: string[][] = [];
    for (const row of await rows.all()) {
      usage.push((await row.locator('th, td').allTextContents()).map((cell) => cell.trim()));
    }
    await portal.getByRole('button', { name: 'Confirm and get the response' }).click();
    await portal.getByRole('heading', { level: 1, name: 'Your offline response' }).waitFor();
    const response = ((await portal.locator('#offline-response').textContent()) ?? '').trim();
    const [download] = await Promise.all([
      portal.waitForEvent('download'),
      portal.getByRole('link', { name: /^Download / }).click(),
    ]);
    expect((await readFile((await download.path()) as string, 'utf8')).trim()).toBe(response);
    return { effect, usage, response };
  }

  /** The app's QR codes as a phone would photograph them: screenshots of the screen. */
  async function screenshotsOfQrCodes(): Promise<Buffer[]> {
    const codes = await app.locator('#qr svg').all();
    return Promise.all(codes.map((code) => code.screenshot()));
  }

  test('activate: request (text and QR) → store → import → verified offline, across a reload', async () => {
    expect(await json<LicenseView>('license')).toEqual({ status: 'none' });
    await app.locator('#key').fill(licenseKey);
    await press('activate');
    const request = await app.locator('#request').inputValue();
    expect(request).toMatch(/^LK1-REQ\./);
    // One code for a request without usage, and it scans back to the very text.
    expect(await scanQrCodes()).toEqual([request]);

    // The customer photographs the code and brings the picture to the portal.
    const { effect, usage, response } = await answerInPortal({
      pictures: await screenshotsOfQrCodes(),
    });
    expect(effect).toMatch(/^Activate a new device/);
    expect(usage).toEqual([]);
    await app.locator('#response').fill(response);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: true, kind: 'activate' });
    const license = await json<LicenseView>('license');
    expect(license).toMatchObject({ valid: true, license: licenseId });
    expect(license.device).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The token and the marks are in localStorage: a reload verifies it again, offline.
    await app.reload();
    await app.locator('#state', { hasText: 'ready' }).waitFor();
    expect(await json<LicenseView>('license')).toMatchObject({ valid: true, license: licenseId });

    // The same response again is refused: its request was answered.
    await app.locator('#response').fill(response);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: false, reason: 'not_our_request' });
  });

  test('a mistyped response is refused and changes nothing', async () => {
    await app.locator('#key').fill(licenseKey);
    await press('activate');
    const { response } = await answerInPortal({ text: await app.locator('#request').inputValue() });
    const at = Math.floor(response.length / 2);
    const typo = `${response.slice(0, at)}${response[at] === 'x' ? 'y' : 'x'}${response.slice(at + 1)}`;
    const before = await json<LicenseView>('license');
    await app.locator('#response').fill(typo);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: false, reason: 'bad_checksum' });
    expect(await json<LicenseView>('license')).toEqual(before);
  });

  test('refresh with usage: the ledger goes back, the portal shows it', async () => {
    await press('consume');
    await press('consume');
    expect(await json('outcome')).toMatchObject({ granted: true, used: 6 });
    await press('refresh');
    const request = await app.locator('#request').inputValue();
    expect(await scanQrCodes()).toEqual([request]);
    const { effect, usage, response } = await answerInPortal({ text: request });
    expect(effect).toMatch(/refresh/i);
    // The preview shows the usage the device counted offline, before anything is recorded.
    expect(usage.map(([quota, used]) => [quota, used])).toContainEqual(['exports', '6']);
    await app.locator('#response').fill(response);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: true, kind: 'refresh' });
    expect((await json<LicenseView>('license')).quotas?.exports?.used).toBe(6);

    // The license page of the portal shows the usage now recorded.
    await portal.goto(`${store.url}/portal/license`);
    const row = portal.locator('#usage + table tbody tr', { hasText: 'exports' }).first();
    const cells = await row.locator('th, td').allTextContents();
    expect(cells.map((cell) => cell.trim()).join(' ')).toMatch(/^exports 1,000 6 994\b/);
  });

  test('the app never reached the network, broke no CSP rule and logged no error', async () => {
    expect(foreign).toEqual([]);
    expect(site.requested.every((path) => !path.startsWith('/v1/'))).toBe(true);
    expect(await app.locator('#csp-violations').textContent()).toBe('[]');
    expect(consoleErrors).toEqual([]);
  });
});
