/**
 * A real Manifest V3 extension, loaded unpacked into headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core), under the default extension CSP
 * (test/e2e/fixtures/extension: the manifest sets no content_security_policy).
 *
 * - The module service worker imports licensekit-verifier.worker.js statically (import()
 *   is disallowed in service workers) and keeps its state in chrome.storage.local through
 *   keyValueState. It verifies a CWT and a JWT, spends quota, and applies a signed
 *   revocation list that revokes a second license: code that the split build loads with
 *   import(), so this proves the worker bundle has it inlined.
 * - The worker is then stopped (DevTools' ServiceWorker.stopWorker), the popup's message
 *   starts it again, and the new instance finds the usage and the revocation list in
 *   chrome.storage.local.
 * - The popup verifies the stored CWT with the compact bundle (its chunks loaded relative
 *   to it) and writes the status into its DOM.
 * - Nothing leaves the extension: every request Chromium reports (pages and the worker) is
 *   to chrome-extension://<id>/, and a recording proxy that all other traffic of the
 *   browser goes through sees nothing but Chromium's own start-up requests.
 *
 * Chromium flags: plain `--headless` (what playwright passes for `headless: true`) is the
 * new headless mode in Chromium 156 and runs extensions; no `--headless=new` is needed.
 * playwright-core passes `--disable-extensions` by default: `--disable-extensions-except=DIR`
 * overrides it for DIR (without it nothing loads), and `--load-extension=DIR` loads it.
 * Debian's Chromium still honours --load-extension (branded Chrome 137+ does not).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Ed25519PublicJwk } from '../../packages/core/src/keys.js';
import {
  certificateClaims,
  DAY,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  revocationClaims,
  signCertificate,
  signLicense,
  signRevocationList,
} from '../support/tokens.js';
import { repoRoot } from '../support/vectors.js';
import { buildBrowserBundle, COMPACT_BUNDLE, FULL_BUNDLE } from './support/bundle.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';

const FIXTURES = join(repoRoot, 'test/e2e/fixtures/extension');
const WORKER_BUNDLE = 'licensekit-verifier.worker.js';

/**
 * What Chromium 156 itself sends at start despite CHROMIUM_ARGS and playwright's own flags
 * (seen in a net log: browser-process requests, initiator "not an origin", with or without
 * an extension loaded): the sign-in check `POST https://accounts.google.com/ListAccounts`,
 * and the component updater's on-demand check for the Optimization Guide models manifest
 * (app id ceofaddefefcbblgcgnibnonglccbfja), over HTTPS and then its plain-HTTP fallback.
 * Through the proxy they show as below; anything else fails the test.
 */
const CHROMIUM_OWN = [
  // redirector.gvt1.com: the component updater's download host, Chromium's own too (seen on
  // some runs only).
  /^CONNECT (?:accounts\.google\.com|update\.googleapis\.com|redirector\.gvt1\.com):443$/,
  /^POST http:\/\/update\.googleapis\.com\/service\/update2\/json\?/,
];

const missing = chromiumMissing('extension e2e test');

/** The tokens of the test: a root the extension trusts, three licenses, a revocation list. */
interface ExtensionFixture {
  product: string;
  root: Ed25519PublicJwk;
  /** The extension's license (stored in chrome.storage.local), and the same plan as a JWT. */
  cwt: string;
  jwt: string;
  /** A second license, which the revocation list revokes. */
  revoked: string;
  /** Signed by the root, seq 1: revokes the license `lic_ext_revoked`. */
  revocationList: string;
  limit: number;
}

/** Valid at the real current time: Chromium reads its own clock. */
function makeExtensionFixture(now = Math.floor(Date.now() / 1000)): ExtensionFixture {
  const root = generateTestKey();
  const issuer = generateTestKey();
  const certified = certificateClaims(issuer, {
    iat: now - DAY,
    nbf: now - DAY,
    exp: now + 365 * DAY,
  });
  const limit = 1000;
  const license = (sub: string) =>
    licenseClaims({
      sub,
      iat: now - 60,
      nbf: now - 60,
      exp: now + 30 * DAY,
      rfa: now + 20 * DAY,
      quota: { exports: { limit, per: 'month' }, seats: { limit: 3 } },
    });
  const cwtCertificate = signCertificate(root, certified, { format: 'cwt' });
  return {
    product: PRODUCT,
    root: root.jwk,
    cwt: signLicense(issuer, license('lic_ext_cwt'), {
      format: 'cwt',
      certificate: cwtCertificate,
    }),
    jwt: signLicense(issuer, license('lic_ext_jwt'), {
      format: 'jwt',
      certificate: signCertificate(root, certified, { format: 'jwt' }),
    }),
    revoked: signLicense(issuer, license('lic_ext_revoked'), {
      format: 'cwt',
      certificate: cwtCertificate,
    }),
    revocationList: signRevocationList(
      root,
      revocationClaims({ iat: now - 60, seq: 1, next: now + DAY, licenses: ['lic_ext_revoked'] }),
      { format: 'cwt' },
    ),
    limit,
  };
}

/**
 * The unpacked extension in a fresh directory: the fixture files, the browser build under
 * verifier/ (copied whole, as the README says), and config.json with the trust anchor.
 */
function buildExtension(bundleDir: string, fixture: ExtensionFixture): string {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-extension-'));
  for (const file of ['manifest.json', 'sw.js', 'popup.html', 'popup.js']) {
    cpSync(join(FIXTURES, file), join(dir, file));
  }
  cpSync(bundleDir, join(dir, 'verifier'), { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ product: fixture.product, root: fixture.root }),
  );
  return dir;
}

/**
 * An HTTP proxy that answers nothing and records every request: Chromium sends all its
 * traffic but chrome-extension:// (and loopback) through it, whatever part of the browser
 * makes it, so an empty record means nothing left the machine.
 */
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

interface Summary {
  valid: boolean;
  status: string;
  reason: string;
  format: string | null;
  license: string | null;
  exports: { limit: number | null; used: number; remaining: number | null } | null;
}

interface Spent {
  granted: boolean;
  reason: string;
  used: number;
  limit: number | null;
  remaining: number | null;
}

interface CheckResults {
  bootId: string;
  cwt: Summary;
  jwt: Summary;
  revokedBefore: Summary;
  consumed: Spent;
  revocations: { accepted: boolean; reason: string; seq: number | undefined };
  revokedAfter: Summary;
  cwtAfter: Summary;
}

interface SpendResults {
  bootId: string;
  before: Summary;
  revoked: Summary;
  consumed: Spent;
}

interface WorkerStatus {
  bootId: string;
  errors: string[];
  violations: { directive: string; blockedURI: string; policy: string }[];
  storage: Record<string, unknown>;
}

interface PopupResults {
  error?: string;
  bundle: string;
  api: string[];
  license: Summary;
  worker: Summary & { bootId: string; error?: string };
}

/** What Chromium reported while the test ran: requests and console lines, with their source. */
interface Observed {
  requests: { url: string; from: string }[];
  console: { type: string; text: string; from: string }[];
  pageErrors: string[];
}

describe.skipIf(missing)('a Manifest V3 extension in headless Chromium', () => {
  let bundleDir: string;
  let extensionDir: string;
  let userDataDir: string;
  let fixture: ExtensionFixture;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let context: BrowserContext;
  let worker: Worker;
  let origin: string;
  let firstBoot: string;
  const observed: Observed = { requests: [], console: [], pageErrors: [] };

  /** Runs an op of sw.js in the worker (a task of its own there, under the CSP). */
  const run = <T>(op: string, input?: unknown): Promise<T> =>
    worker.evaluate(
      ([name, value]) =>
        (
          globalThis as unknown as {
            licensekit: { run(op: string, input: unknown): Promise<unknown> };
          }
        ).licensekit.run(name as string, value),
      [op, input] as const,
    ) as Promise<T>;

  beforeAll(async () => {
    // A private build of the current sources (the same scripts/browser-bundle.mjs that
    // writes packages/verifier/dist/browser), so an overlapping build never swaps files
    // under the copy.
    bundleDir = buildBrowserBundle();
    fixture = makeExtensionFixture();
    extensionDir = buildExtension(bundleDir, fixture);
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
    context.on('request', (request) => {
      const from = request.serviceWorker()?.url() ?? request.frame().url();
      observed.requests.push({ url: request.url(), from });
    });
    context.on('console', (message) => {
      const from = message.worker()?.url() ?? message.page()?.url() ?? '?';
      observed.console.push({ type: message.type(), text: message.text(), from });
    });
    context.on('weberror', (error) => observed.pageErrors.push(String(error.error())));

    const isOurs = (candidate: Worker) =>
      candidate.url().startsWith('chrome-extension://') && candidate.url().endsWith('/sw.js');
    worker =
      context.serviceWorkers().find(isOurs) ??
      (await context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 30_000 }));
    origin = `chrome-extension://${new URL(worker.url()).host}`;
  });

  afterAll(async () => {
    await context?.close();
    await proxy?.close();
    for (const dir of [userDataDir, extensionDir, bundleDir]) {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Opens an extension page and waits for its script to finish. */
  async function openPopup(query = ''): Promise<{ page: Page; results: unknown }> {
    const page = await context.newPage();
    await page.goto(`${origin}/popup.html${query}`);
    await page.waitForFunction(
      () => document.getElementById('state')?.textContent !== 'loading',
      null,
      { timeout: 30_000 },
    );
    const results = JSON.parse((await page.locator('#results').textContent()) ?? '{}');
    return { page, results };
  }

  /**
   * Violations of a blocked eval. Chromium enforces two policies on extension pages and the
   * worker, each reporting: the manifest's, here the Manifest V3 default
   * (`script-src 'self' 'wasm-unsafe-eval' …; object-src 'self'`, which for an unpacked
   * extension also allows localhost sources), and a minimum `script-src 'self'`.
   */
  function expectEvalBlockedByDefaultPolicy(
    violations: { directive: string; blockedURI: string; policy: string }[],
  ): void {
    expect(violations.length).toBeGreaterThan(0);
    for (const violation of violations) {
      expect(violation).toMatchObject({ directive: 'script-src', blockedURI: 'eval' });
    }
    expect(violations.map((violation) => violation.policy)).toContainEqual(
      expect.stringMatching(/^script-src 'self' 'wasm-unsafe-eval'.*; object-src 'self';?$/),
    );
  }

  /** What reached the proxy, but for Chromium's own requests. */
  const leftTheBrowser = () =>
    proxy.seen.filter((line) => !CHROMIUM_OWN.some((own) => own.test(line)));

  const consoleOf = (prefix: string) => observed.console.filter((m) => m.from.startsWith(prefix));

  test('the extension loads with the default CSP and its worker bundle', () => {
    const manifest = JSON.parse(readFileSync(join(extensionDir, 'manifest.json'), 'utf8'));
    expect(manifest.manifest_version).toBe(3);
    expect(manifest.content_security_policy).toBeUndefined();
    expect(worker.url()).toBe(`${origin}/sw.js`);
    // One self-contained file: no import() and no chunk for the worker to load.
    const bundle = readFileSync(join(extensionDir, 'verifier', WORKER_BUNDLE), 'utf8');
    expect(bundle).not.toMatch(/\bimport\s*\(/);
    expect(bundle).not.toMatch(/\bfrom\s*["']\.\//);
  });

  test('the service worker verifies both formats, spends quota and applies a revocation list', async () => {
    const results = await run<CheckResults>('check', {
      cwt: fixture.cwt,
      jwt: fixture.jwt,
      revoked: fixture.revoked,
      revocationList: fixture.revocationList,
    });
    firstBoot = results.bootId;
    const { limit } = fixture;
    expect(results.cwt).toMatchObject({
      valid: true,
      status: 'active',
      format: 'cwt',
      license: 'lic_ext_cwt',
      exports: { limit, used: 0, remaining: limit },
    });
    expect(results.jwt).toMatchObject({
      valid: true,
      status: 'active',
      format: 'jwt',
      license: 'lic_ext_jwt',
    });
    expect(results.revokedBefore).toMatchObject({ valid: true, status: 'active' });
    expect(results.consumed).toEqual({
      granted: true,
      reason: 'granted',
      used: 3,
      limit,
      remaining: limit - 3,
    });
    // The revocation-list code, a lazy chunk of the split build, ran in the worker.
    expect(results.revocations).toEqual({ accepted: true, reason: 'applied', seq: 1 });
    expect(results.revokedAfter).toMatchObject({
      valid: false,
      status: 'revoked',
      reason: 'license_revoked',
      license: 'lic_ext_revoked',
    });
    expect(results.cwtAfter).toMatchObject({
      valid: true,
      status: 'active',
      exports: { used: 3, remaining: limit - 3 },
    });

    const status = await run<WorkerStatus>('status');
    expect(status.errors).toEqual([]);
    expect(status.violations).toEqual([]);
    const stored = JSON.parse(status.storage[`licensekit:${PRODUCT}`] as string);
    expect(stored.usage.lic_ext_cwt.exports.used).toBe(3);
    expect(stored.revocations).toMatchObject({ seq: 1, token: fixture.revocationList });
  });

  test('stopped and started again by the popup, the worker finds its state in chrome.storage.local', async () => {
    // Stop the worker through DevTools, as Chromium does to an idle one.
    const [blank] = context.pages();
    const cdp = await context.newCDPSession(blank ?? (await context.newPage()));
    const running = new Map<string, string>();
    const changed: (() => void)[] = [];
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      for (const version of versions) {
        if (version.scriptURL === worker.url())
          running.set(version.versionId, version.runningStatus);
      }
      for (const notify of changed.splice(0)) notify();
    });
    const statusIs = async (wanted: string) => {
      while (![...running.values()].includes(wanted)) {
        await new Promise<void>((resolve) => changed.push(resolve));
      }
    };
    await cdp.send('ServiceWorker.enable');
    await statusIs('running');
    const [versionId] = running.keys();
    await cdp.send('ServiceWorker.stopWorker', { versionId: versionId! });
    await statusIs('stopped');

    // The popup: the compact bundle verifies the stored CWT in the page, then the message
    // to the worker starts it again.
    const { page, results } = await openPopup();
    const popup = results as PopupResults;
    expect(popup.error, 'the popup script failed').toBeUndefined();
    expect(await page.locator('#status').textContent()).toBe('active');
    expect(popup.api).toEqual(['product', 'verify']);
    expect(popup.license).toMatchObject({
      valid: true,
      status: 'active',
      format: 'cwt',
      license: 'lic_ext_cwt',
      // Stateless: the quota as claimed.
      exports: { used: 0, remaining: fixture.limit },
    });
    expect(popup.worker.error).toBeUndefined();
    expect(popup.worker.bootId).not.toBe(firstBoot);
    expect(popup.worker).toMatchObject({
      valid: true,
      status: 'active',
      exports: { used: 3, remaining: fixture.limit - 3 },
    });
    expect(JSON.parse((await page.locator('#csp-violations').textContent()) ?? '')).toEqual([]);
    expect(consoleOf(`${origin}/popup.html`)).toEqual([]);
    const loaded = observed.requests
      .filter((request) => request.from.startsWith(`${origin}/popup.html`))
      .map((request) => request.url.slice(origin.length));
    expect(loaded).toContain(`/verifier/${COMPACT_BUNDLE}`);
    expect(loaded).not.toContain(`/verifier/${FULL_BUNDLE}`);
    expect(loaded).not.toContain(`/verifier/${WORKER_BUNDLE}`);
    expect(loaded.filter((path) => path.includes('/verifier/noble-'))).toEqual([]);
    await page.close();

    // The same Worker handle evaluates in the new instance, with a new verifier.
    const after = await run<SpendResults>('spend', { amount: 1, revoked: fixture.revoked });
    expect(after.bootId).toBe(popup.worker.bootId);
    expect(after.before).toMatchObject({
      valid: true,
      status: 'active',
      exports: { used: 3, remaining: fixture.limit - 3 },
    });
    // The stored list was re-verified on load: the second license is still revoked.
    expect(after.revoked).toMatchObject({ status: 'revoked', reason: 'license_revoked' });
    expect(after.consumed).toEqual({
      granted: true,
      reason: 'granted',
      used: 4,
      limit: fixture.limit,
      remaining: fixture.limit - 4,
    });
    const status = await run<WorkerStatus>('status');
    expect(status.errors).toEqual([]);
    expect(status.violations).toEqual([]);
    await cdp.detach();
  });

  test('nothing left the extension, and nothing was logged as an error', async () => {
    expect(observed.requests.length).toBeGreaterThan(0);
    expect(observed.requests.filter((request) => !request.url.startsWith(`${origin}/`))).toEqual(
      [],
    );
    // The worker's own requests are recorded too (its fetch of config.json).
    expect(observed.requests).toContainEqual({
      url: `${origin}/config.json`,
      from: `${origin}/sw.js`,
    });
    // The worker loads one verifier file, the worker bundle, and no chunk. (Its first
    // start may come before playwright attaches, so the fetch may not be recorded.)
    const workerScripts = observed.requests
      .filter((request) => request.from === `${origin}/sw.js`)
      .map((request) => request.url.slice(origin.length))
      .filter((path) => path.startsWith('/verifier/'));
    expect(workerScripts.filter((path) => path !== `/verifier/${WORKER_BUNDLE}`)).toEqual([]);
    expect(leftTheBrowser()).toEqual([]);
    expect(observed.console.filter((message) => message.type === 'error')).toEqual([]);
    expect(observed.pageErrors).toEqual([]);

    // The positive control: a request that does leave reaches the proxy.
    const page = await context.newPage();
    await page.evaluate(() => fetch('http://licensekit-e2e.invalid/').catch(() => undefined));
    await expect.poll(leftTheBrowser).toEqual(['GET http://licensekit-e2e.invalid/']);
    await page.close();
  });

  test('the CSP is in force: eval is blocked in the popup and the worker, import() in the worker', async () => {
    const { page, results } = await openPopup('?probe=eval');
    const probe = results as { evalRan: boolean; blockedWith: string };
    expect(probe.evalRan).toBe(false);
    expect(probe.blockedWith).toMatch(/^EvalError: .*Content Security Policy/);
    // The positive control of "no violations" above: a blocked eval is reported.
    const reported = async () =>
      JSON.parse((await page.locator('#csp-violations').textContent()) ?? '') as {
        directive: string;
        blockedURI: string;
        policy: string;
      }[];
    await expect.poll(async () => (await reported()).length).toBeGreaterThan(0);
    expectEvalBlockedByDefaultPolicy(await reported());
    await page.close();

    const inWorker = await run<{ eval: string; import: string }>('probe');
    expect(inWorker.eval).toMatch(/^EvalError: .*Content Security Policy/);
    expect(inWorker.import).toMatch(
      /^TypeError: import\(\) is disallowed on ServiceWorkerGlobalScope/,
    );
    const status = await run<WorkerStatus>('status');
    expectEvalBlockedByDefaultPolicy(status.violations);
  });
});
