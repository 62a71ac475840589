import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeDocument, readLicenseClaims } from '../../packages/core/src/index.js';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';

/**
 * The HTML report of `licensekit audit store` in headless Chromium: one self-contained
 * file that renders with JavaScript off and fetches nothing, with the verdict, the
 * issuance chart (inline SVG), the findings grouped by severity and a timeline per
 * license. The export is tampered with first (an upgrade order and a token removed), so
 * the page has findings to show.
 */

const run = promisify(execFile);
const ADMIN_TOKEN = 'audit-report-test-admin-token';
const missing = chromiumMissing('audit report test');

async function licensekit(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      join(repoRoot, 'packages/cli/bin/licensekit.mjs'),
      ...args,
    ]);
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout, err: failed.stderr };
  }
}

describe.skipIf(missing)('the audit HTML report in headless Chromium', () => {
  let store: RunningStore;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-audit-report-'));
  const exported = join(dir, 'export');
  const tampered = join(dir, 'tampered');
  const rootFile = join(dir, 'root.pub.json');
  let logKey = '';
  let upgraded = '';
  let upgradeOrder = '';
  let refreshed = '';

  beforeAll(async () => {
    store = await startStore(
      {
        port: 0,
        dataDir: join(dir, 'store'),
        seedDemo: true,
        adminToken: ADMIN_TOKEN,
        logger: false,
        licensing: { billing: { enabled: false } },
        operations: { webhooks: { enabled: false } },
        log: { checkpointIntervalMs: 0 },
      },
      false,
    );
    writeFileSync(rootFile, JSON.stringify(store.rootPublicJwk));
    logKey = ((await (await fetch(`${store.url}/v1/keys`)).json()) as { log: { key: string } }).log
      .key;
    const post = async (path: string, body: unknown, headers: Record<string, string>) => {
      const response = await fetch(`${store.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<unknown>;
    };
    const buy = async (planId: string) =>
      (
        (await post(
          '/v1/checkout',
          { productId: 'photon', planId, email: `report-${randomUUID()}@example.com` },
          { 'idempotency-key': randomUUID() },
        )) as { license: { id: string; key: string } }
      ).license;
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const free = await buy('free');
    const pro = await buy('pro-monthly');
    for (const license of [free, pro]) await post('/v1/licenses/refresh', {}, as(license.key));
    const change = (await post(
      '/v1/licenses/plan',
      { planId: 'pro-monthly', confirm: true },
      as(free.key),
    )) as { order: { id: string } };
    await post('/v1/licenses/plan', { planId: 'free', confirm: true }, as(pro.key));
    for (let round = 0; round < 3; round++) {
      for (const license of [free, pro]) await post('/v1/licenses/refresh', {}, as(license.key));
    }
    upgraded = free.id;
    upgradeOrder = change.order.id;
    refreshed = pro.id;
    const result = await licensekit(
      'export',
      '--store',
      store.url,
      '--token',
      ADMIN_TOKEN,
      '--out',
      exported,
    );
    expect(result.code, result.err).toBe(0);

    // The tampering: the upgrade's order gone, and one token of the other license.
    cpSync(exported, tampered, { recursive: true });
    const orders = readFileSync(join(tampered, 'orders.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(
      join(tampered, 'orders.jsonl'),
      `${orders.filter((line) => !line.includes(upgradeOrder)).join('\n')}\n`,
    );
    const entries = readFileSync(join(tampered, 'entries.jsonl'), 'utf8').trim().split('\n');
    // The tokens of that license, found by their `sub` (a CWT may carry it as bytes).
    const tokens = entries.flatMap((line, at) => {
      const { kind, document } = JSON.parse(line) as { kind: string; document: string };
      if (kind !== 'license') return [];
      const bytes = Buffer.from(document, 'base64url');
      const token = bytes[0] === 0xd2 ? bytes : bytes.toString('latin1');
      return readLicenseClaims(decodeDocument(token, 'license')).sub === refreshed ? [at] : [];
    });
    expect(tokens.length).toBeGreaterThan(2);
    entries.splice(tokens[tokens.length - 2]!, 1);
    writeFileSync(join(tampered, 'entries.jsonl'), `${entries.join('\n')}\n`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a report with JavaScript off, recording every request the page makes. */
  async function open(file: string) {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(file).href);
    return { context, page, requests, url: pathToFileURL(file).href };
  }

  test('a report with findings: verdict, chart, findings by severity, timelines', async () => {
    const file = join(dir, 'report.html');
    const result = await licensekit(
      'audit',
      'store',
      tampered,
      '--trust',
      rootFile,
      '--log-key',
      logKey,
      '--html',
      file,
      '--json',
    );
    expect(result.code).toBe(1);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);

    const { context, page, requests, url } = await open(file);
    expect(requests).toEqual([url]);
    expect(await page.title()).toMatch(/^Findings: licensekit audit of /);
    await expect(page.locator('.verdict').textContent()).resolves.toBe('FINDINGS');

    // The chart: an inline SVG with bars.
    const chart = page.getByRole('img', { name: 'Issuance over time' });
    expect(await chart.count()).toBe(1);
    expect(await chart.locator('rect').count()).toBeGreaterThan(0);

    // Findings grouped by severity, each naming its kind and license.
    const errors = page.locator('section[aria-labelledby="sev-error"]');
    await expect(errors.locator('h3').textContent()).resolves.toMatch(/^Errors \(\d+\)$/);
    const errorText = (await errors.textContent()) ?? '';
    expect(errorText).toContain('lineage.unjustified_increase');
    expect(errorText).toContain('lineage.seq_gap');
    expect(errorText).toContain('log.index_gap');
    expect(errorText).toContain(upgraded);
    expect(errorText).toContain(refreshed);
    const warnings = page.locator('section[aria-labelledby="sev-warning"]');
    expect(await warnings.textContent()).toContain('export.file');

    // A timeline per license, flagged ones first, with the flagged token marked.
    const licenses = page.locator('section.license');
    expect(await licenses.count()).toBe(2);
    expect(await page.locator('section.license.flagged').count()).toBe(2);
    const upgradedTimeline = page.locator(`section.license:has(h3 code:text-is("${upgraded}"))`);
    expect(await upgradedTimeline.locator('tr.flagged').count()).toBeGreaterThan(0);
    expect(await upgradedTimeline.textContent()).toContain('plan free → pro-monthly');

    const screenshot = join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    if (process.env.LICENSEKIT_KEEP_REPORT) cpSync(screenshot, process.env.LICENSEKIT_KEEP_REPORT);
    await context.close();
  });

  test('a clean report says so', async () => {
    const file = join(dir, 'clean.html');
    const result = await licensekit(
      'audit',
      'store',
      exported,
      '--trust',
      rootFile,
      '--log-key',
      logKey,
      '--html',
      file,
    );
    expect(result.code, result.out).toBe(0);
    expect(result.err).toBe(`wrote the HTML report to ${file}\n`);
    const { context, page, requests, url } = await open(file);
    expect(requests).toEqual([url]);
    await expect(page.locator('.verdict').textContent()).resolves.toBe('CLEAN');
    expect(await page.locator('#findings + p').textContent()).toBe('None: every check passed.');
    expect(await page.locator('section.license').count()).toBe(2);
    expect(await page.locator('section.license.flagged').count()).toBe(0);
    await context.close();
  });
});
