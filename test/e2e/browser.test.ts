/**
 * The browser build in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): a page served with `Content-Security-Policy: script-src 'self'`
 * verifies a CWT and a JWT offline, spends quota persisted in localStorage, survives a
 * reload, and the test reads the results from the DOM. The compact entry, a stateless
 * CWT-only verifier, verifies the CWT and calls the JWT malformed.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/vectors.js';
import { buildBrowserBundle } from './support/bundle.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';
import { CSP, type StaticSite, serveSite } from './support/static-server.js';
import { makeRuntimeFixture, type RuntimeFixture } from './support/tokens.js';

const missing = chromiumMissing('browser e2e test');

interface TokenSummary {
  valid: boolean;
  status: string;
  reason: string;
  format: string | null;
  license: string | null;
  quotas: Record<string, { limit: number | null; used: number; remaining: number | null }>;
}

interface PageResults {
  error?: string;
  bundle: string;
  cwt: TokenSummary;
  jwt: TokenSummary;
  consumed: { granted: boolean; reason: string; used: number; limit: number; remaining: number };
  storedState: boolean;
}

/** The compact page: no consume, no state. */
interface CompactPageResults {
  error?: string;
  bundle: string;
  api: string[];
  cwt: TokenSummary;
  jwt: TokenSummary;
  storedState: boolean;
}

/** One page load's observations besides the DOM: requests, console, page errors. */
interface Watch {
  requests: string[];
  foreign: string[];
  console: string[];
  pageErrors: string[];
}

describe.skipIf(missing)('the browser bundle in headless Chromium under a strict CSP', () => {
  let bundleDir: string;
  let fixture: RuntimeFixture;
  let site: StaticSite;
  let browser: Browser;

  beforeAll(async () => {
    bundleDir = buildBrowserBundle();
    fixture = makeRuntimeFixture();
    site = await serveSite({
      fixturesDir: join(repoRoot, 'test/e2e/fixtures'),
      bundleDir,
      tokens: fixture,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  /** A fresh context (its own localStorage) that refuses and records any other origin. */
  async function openPage(): Promise<{ context: BrowserContext; page: Page; watch: Watch }> {
    const context = await browser.newContext();
    const watch: Watch = { requests: [], foreign: [], console: [], pageErrors: [] };
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === site.origin) return route.continue();
      watch.foreign.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('request', (request) => watch.requests.push(request.url()));
    page.on('console', (message) => watch.console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => watch.pageErrors.push(String(error)));
    return { context, page, watch };
  }

  /** Waits for the page script to finish and returns what it wrote into the DOM. */
  async function readResults<T = PageResults>(page: Page): Promise<T> {
    await page.waitForFunction(
      () => document.getElementById('state')?.textContent !== 'loading',
      null,
      {
        timeout: 30_000,
      },
    );
    const text = await page.locator('#results').textContent();
    const results = JSON.parse(text ?? '{}') as T & { error?: string };
    expect(results.error, 'the page script failed').toBeUndefined();
    return results;
  }

  async function violations(page: Page): Promise<unknown[]> {
    return JSON.parse((await page.locator('#csp-violations').textContent()) ?? '[]') as unknown[];
  }

  /** Nothing left the page's origin, nothing broke the CSP, nothing was logged as an error. */
  async function expectCleanRun(page: Page, watch: Watch): Promise<void> {
    expect(watch.foreign, 'requests to other origins').toEqual([]);
    expect(watch.requests.every((url) => url.startsWith(`${site.origin}/`))).toBe(true);
    expect(await violations(page), 'securitypolicyviolation events').toEqual([]);
    expect(
      watch.console.filter((line) => /Content Security Policy|Refused to/i.test(line)),
    ).toEqual([]);
    expect(watch.console.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  }

  const fetched = (watch: Watch, prefix: string) =>
    watch.requests.filter((url) => new URL(url).pathname.startsWith(`/bundle/${prefix}`));

  test('the CSP is in force: the page cannot evaluate strings', async () => {
    const { context, page, watch } = await openPage();
    try {
      const response = await page.goto(`${site.origin}/?probe=eval`);
      expect(response?.headers()['content-security-policy']).toBe(CSP);
      const probe = await readResults<{ evalRan: boolean; blockedWith: string }>(page);
      expect(probe.evalRan).toBe(false);
      expect(probe.blockedWith).toMatch(/^EvalError: .*Content Security Policy/);
      // The positive control of "no violations" below: a blocked eval is reported.
      await expect
        .poll(() => violations(page))
        .toEqual([expect.objectContaining({ directive: 'script-src' })]);
      expect(watch.foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('the full bundle verifies a CWT and a JWT offline and keeps quota across a reload', async () => {
    const { context, page, watch } = await openPage();
    try {
      await page.goto(`${site.origin}/?bundle=full`);
      const first = await readResults(page);
      expect(first.cwt).toMatchObject({
        valid: true,
        status: 'active',
        format: 'cwt',
        license: 'lic_browser_cwt',
      });
      expect(first.jwt).toMatchObject({
        valid: true,
        status: 'active',
        format: 'jwt',
        license: 'lic_browser_jwt',
      });
      expect(first.cwt.quotas.exports).toMatchObject({ limit: 1000, used: 0, remaining: 1000 });
      expect(first.consumed).toMatchObject({
        granted: true,
        reason: 'granted',
        used: 3,
        remaining: 997,
      });
      expect(first.storedState).toBe(true);
      await expectCleanRun(page, watch);

      // WebCrypto Ed25519 did the work: the noble fallback chunk was never fetched.
      expect(fetched(watch, 'noble-')).toEqual([]);
      expect(fetched(watch, 'sha2-')).toEqual([]);
      expect(site.requested).toContain('/bundle/licensekit-verifier.js');

      await page.reload();
      const second = await readResults(page);
      // The usage of the first load came back from localStorage, then 3 more were spent.
      expect(second.cwt).toMatchObject({ valid: true, status: 'active' });
      expect(second.cwt.quotas.exports).toMatchObject({ used: 3, remaining: 997 });
      expect(second.jwt).toMatchObject({ valid: true, status: 'active' });
      expect(second.consumed).toMatchObject({ granted: true, used: 6, remaining: 994 });
      await expectCleanRun(page, watch);
    } finally {
      await context.close();
    }
  });

  test('the compact bundle verifies the CWT and calls the JWT malformed, statelessly', async () => {
    const { context, page, watch } = await openPage();
    try {
      await page.goto(`${site.origin}/?bundle=compact`);
      const results = await readResults<CompactPageResults>(page);
      expect(results.api).toEqual(['product', 'verify']);
      expect(results.cwt).toMatchObject({
        valid: true,
        status: 'active',
        format: 'cwt',
        license: 'lic_browser_cwt',
      });
      // The quotas as claimed: nothing spent, since the compact verifier keeps no ledger.
      expect(results.cwt.quotas.exports).toMatchObject({ limit: 1000, used: 0, remaining: 1000 });
      expect(results.jwt).toMatchObject({
        valid: false,
        status: 'malformed',
        reason: 'bad_structure',
        format: null,
        license: null,
      });
      expect(results.storedState).toBe(false);
      await expectCleanRun(page, watch);
      expect(fetched(watch, 'licensekit-verifier-compact.js')).toHaveLength(1);
      expect(fetched(watch, 'licensekit-verifier.js')).toEqual([]);
      expect(fetched(watch, 'noble-')).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('without WebCrypto Ed25519 the noble chunk loads under the CSP and verifies both formats', async () => {
    const { context, page, watch } = await openPage();
    try {
      await page.goto(`${site.origin}/?bundle=full&ed25519=none`);
      const results = await readResults(page);
      expect(results.cwt).toMatchObject({ valid: true, status: 'active' });
      expect(results.jwt).toMatchObject({ valid: true, status: 'active' });
      expect(results.consumed).toMatchObject({ granted: true, remaining: 997 });
      await expectCleanRun(page, watch);
      expect(fetched(watch, 'noble-')).toHaveLength(1);
      // crypto.subtle is still there: the portable SHA-256 chunk stays unloaded.
      expect(fetched(watch, 'sha2-')).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
