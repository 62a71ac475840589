/**
 * Offline activation inside a Manifest V3 extension, loaded unpacked into headless Chromium
 * under the default extension CSP: the app page of test/e2e/fixtures/offline (the same one
 * offline-activation.test.ts serves as a web page) runs as an extension page, with the
 * verifier state in chrome.storage.local (keyValueState) and the device key in IndexedDB.
 * It writes an activation request, imports the answer, spends quota, writes a refresh
 * request with the usage and imports that answer; the license survives closing the page.
 * The answers come from a simulated store (core's documents, a token signed with
 * @licensekit/issuer by the key the extension trusts); the real store is the subject of
 * offline-activation.test.ts. Nothing leaves the browser: all traffic but the extension's
 * own goes through a proxy that records it.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  answerRequest,
  type TestIssuer,
  testIssuer,
} from '../../packages/verifier/src/testing/offline.js';
import { repoRoot } from '../support/vectors.js';
import { buildBrowserBundle } from './support/bundle.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';

const missing = chromiumMissing('offline extension e2e test');
const PRODUCT = 'photon';
const KEY = 'LK-7K3QD-M2XWA-9FHRT-C4NVB-Z8P1E';

/** Chromium's own start-up requests (see extension.test.ts); anything else fails the test. */
const CHROMIUM_OWN = [
  // redirector.gvt1.com: the component updater's download host, Chromium's own too (seen on
  // some runs only).
  /^CONNECT (?:accounts\.google\.com|update\.googleapis\.com|redirector\.gvt1\.com):443$/,
  /^POST http:\/\/update\.googleapis\.com\/service\/update2\/json\?/,
];

interface LicenseView {
  valid?: boolean;
  status: string;
  license?: string | null;
  device?: string | null;
  quotas?: Record<string, { used: number }>;
}

/** The unpacked extension: the app page as an extension page, the bundles, the trust anchor. */
function buildExtension(bundleDir: string, issuer: TestIssuer): string {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-offline-extension-'));
  const fixtures = join(repoRoot, 'test/e2e/fixtures/offline');
  for (const file of ['page.html', 'page.js']) cpSync(join(fixtures, file), join(dir, file));
  cpSync(bundleDir, join(dir, 'bundle'), { recursive: true });
  writeFileSync(
    join(dir, 'tokens.json'),
    JSON.stringify({ root: issuer.publicJwk, product: PRODUCT }),
  );
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifest_version: 3,
      name: 'licensekit offline end-to-end',
      version: '1.0.0',
      // A worker only so that the test learns the extension's id from it.
      background: { service_worker: 'sw.js', type: 'module' },
      permissions: ['storage'],
    }),
  );
  writeFileSync(join(dir, 'sw.js'), '// The app lives in page.html; this worker does nothing.\n');
  return dir;
}

/** A proxy that refuses and records everything sent through it (see extension.test.ts). */
async function recordingProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.writeHead(403).end();
  });
  server.on('connect', (request, socket) => {
    seen.push(`CONNECT ${request.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

describe.skipIf(missing)('offline activation in a Manifest V3 extension page', () => {
  let bundleDir: string;
  let extensionDir: string;
  let userDataDir: string;
  let issuer: TestIssuer;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let context: BrowserContext;
  let origin: string;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    bundleDir = buildBrowserBundle();
    issuer = await testIssuer();
    extensionDir = buildExtension(bundleDir, issuer);
    userDataDir = mkdtempSync(join(tmpdir(), 'licensekit-chromium-profile-'));
    proxy = await recordingProxy();
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        `--proxy-server=${proxy.url}`,
        `--disable-extensions-except=${extensionDir}`,
        `--load-extension=${extensionDir}`,
      ],
      timeout: 60_000,
    });
    context.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    context.on('weberror', (error) => errors.push(String(error.error())));
    const isOurs = (candidate: Worker) =>
      candidate.url().startsWith('chrome-extension://') && candidate.url().endsWith('/sw.js');
    const worker =
      context.serviceWorkers().find(isOurs) ??
      (await context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 30_000 }));
    origin = `chrome-extension://${new URL(worker.url()).host}`;
    page = await open();
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await proxy?.close();
    for (const dir of [userDataDir, extensionDir, bundleDir]) {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  async function open(): Promise<Page> {
    const opened = await context.newPage();
    await opened.goto(`${origin}/page.html`);
    await opened.locator('#state', { hasText: 'ready' }).waitFor({ timeout: 30_000 });
    return opened;
  }

  async function press(id: string): Promise<void> {
    const before = Number(await page.locator('#done').textContent());
    await page.locator(`#${id}`).click();
    await page.waitForFunction(
      (count) => Number(document.getElementById('done')?.textContent) > count,
      before,
      { timeout: 30_000 },
    );
    expect(await page.locator('#error').textContent()).toBe('');
  }

  const json = async <T>(id: string): Promise<T> =>
    JSON.parse((await page.locator(`#${id}`).textContent()) ?? '{}') as T;

  /** What the extension keeps in chrome.storage.local. */
  const stored = () =>
    page.evaluate(async () => {
      const chromeApi = (
        globalThis as unknown as {
          chrome: { storage: { local: { get(key: null): Promise<Record<string, unknown>> } } };
        }
      ).chrome;
      return chromeApi.storage.local.get(null);
    });

  test('activate, spend, refresh with usage: state in chrome.storage.local', async () => {
    await page.locator('#key').fill(KEY);
    await press('activate');
    const request = await page.locator('#request').inputValue();
    expect(await page.locator('#qr svg').count()).toBe(1);
    const state = JSON.parse(String((await stored())[`licensekit:${PRODUCT}`]));
    expect(state.pendingRequests).toHaveLength(1);

    const activation = await answerRequest(issuer, request, {
      now: Math.floor(Date.now() / 1000) - 60,
    });
    await page.locator('#response').fill(activation.text);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: true, kind: 'activate' });
    const license = await json<LicenseView>('license');
    expect(license).toMatchObject({ valid: true, device: activation.request.thumbprint });

    await press('consume');
    expect(await json('outcome')).toMatchObject({ granted: true, used: 3 });
    await press('refresh');
    const refresh = await page.locator('#request').inputValue();
    const renewal = await answerRequest(issuer, refresh, {
      now: Math.floor(Date.now() / 1000) - 30,
      previous: activation.token,
      claims: { anchor: activation.request.iat - 60 },
    });
    expect(renewal.request.usage).toMatchObject({ quotas: { exports: { used: 3 } } });
    await page.locator('#response').fill(renewal.text);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: true, kind: 'refresh' });
    expect((await json<LicenseView>('license')).quotas?.exports?.used).toBe(3);

    const after = await stored();
    expect(after.token).toBe(renewal.token);
    expect(JSON.parse(String(after[`licensekit:${PRODUCT}`])).pendingRequests).toBeUndefined();
  });

  test('the license survives closing the page; the old response is refused', async () => {
    const activation = await page.locator('#response').inputValue();
    await page.close();
    page = await open();
    expect(await json<LicenseView>('license')).toMatchObject({ valid: true, status: 'active' });
    await page.locator('#response').fill(activation);
    await press('import');
    expect(await json('outcome')).toMatchObject({ installed: false, reason: 'not_our_request' });
  });

  test('nothing left the browser, no CSP violation, no error', async () => {
    expect(await page.locator('#csp-violations').textContent()).toBe('[]');
    expect(errors).toEqual([]);
    expect(proxy.seen.filter((line) => !CHROMIUM_OWN.some((own) => own.test(line)))).toEqual([]);
  });
});
