/**
 * Every page of the store on a phone: no horizontal scrolling at 360, 390 and 414 px.
 * A store started in-process (PGlite, demo catalogue) is walked in headless Chromium with
 * a phone-sized window: the storefront, each product page, a checkout and its
 * confirmation, the portal's sign-in, license page (with a device, usage and a pending
 * change), plan-change previews (upgrade, downgrade, one that replaces a scheduled change),
 * their results, cancellation, error pages, the admin screen (sign-in, orders, a refund,
 * licenses, webhook deliveries, catalogue forms, activity) and the API reference at /docs. On each page
 * `document.documentElement.scrollWidth <= window.innerWidth` must hold; a failure names
 * the page, the width and the elements that stick out.
 *
 * The window is a desktop one resized to the phone's width, not mobile emulation: an
 * emulated phone zooms out to fit content wider than the screen, which would hide the
 * very overflow this test looks for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { prorate } from '../../packages/core/src/index.js';
import { createOfflineRequest, licenseKeyHint } from '../../packages/core/src/offline/index.js';
import type { RunningStore } from '../../packages/store/src/index.js';
import { startStore } from '../../packages/store/src/index.js';
import { formatMoney } from '../../packages/store/src/views/format.js';
import { launchChromium, pageText, watchedPage } from './support/browser.js';
import { chromiumMissing } from './support/chromium.js';
import { deviceKey, StoreClient } from './support/store-client.js';

const missing = chromiumMissing('pages on phones test');

/** Phone widths, CSS pixels: small Android, iPhone 12–15, large iPhones. */
const WIDTHS = [360, 390, 414] as const;
const HEIGHT = 844;

interface Measure {
  page: string;
  width: number;
  scrollWidth: number;
  /** Elements whose right edge is past the window (the first few), for the failure message. */
  wide: string[];
}

describe.skipIf(missing)('the pages on a phone: no horizontal scrolling at 360–414 px', () => {
  let dataDir: string;
  let store: RunningStore;
  let browser: Browser;
  let page: Page;
  const measures: Measure[] = [];
  const violations: unknown[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'licensekit-store-mobile-'));
    store = await startStore(
      {
        port: 0,
        dataDir,
        seedDemo: true,
        adminToken: 'mobile-admin-token',
        logger: false,
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      },
      false,
    );
    browser = await launchChromium();
    // CSP violations are reported out of the page: /docs runs Swagger UI under the CSP too.
    ({ page } = await watchedPage(
      browser,
      { violations },
      { context: { viewport: { width: 390, height: HEIGHT } } },
    ));
  });

  afterAll(async () => {
    if (measures.length > 0) {
      const at390 = measures.filter((m) => m.width === 390);
      console.info(
        `pages at 390 px (scrollWidth):\n${at390.map((m) => `  ${m.scrollWidth}  ${m.page}`).join('\n')}`,
      );
    }
    await browser?.close();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Measures the page as it is now at every phone width (the 390 px window last). */
  async function measure(name: string): Promise<void> {
    for (const width of [...WIDTHS.filter((w) => w !== 390), 390]) {
      await page.setViewportSize({ width, height: HEIGHT });
      const found = await page.evaluate(() => {
        const limit = window.innerWidth;
        // What sticks out of the page itself: content a scrolling box clips does not count.
        const clipped = (element: Element): boolean => {
          for (let up = element.parentElement; up; up = up.parentElement) {
            if (up === document.body) return false;
            if (getComputedStyle(up).overflowX !== 'visible') return true;
          }
          return false;
        };
        const wide = [...document.querySelectorAll('body *')]
          .filter((element) => element.getBoundingClientRect().right > limit + 0.5)
          .filter((element) => !clipped(element))
          .slice(0, 5)
          .map((element) => {
            const box = element.getBoundingClientRect();
            const id = element.id ? `#${element.id}` : '';
            const classes = element.classList.length ? `.${[...element.classList].join('.')}` : '';
            return `${element.tagName.toLowerCase()}${id}${classes} (right ${Math.round(box.right)})`;
          });
        return { scrollWidth: document.documentElement.scrollWidth, innerWidth: limit, wide };
      });
      expect(found.innerWidth).toBe(width);
      measures.push({ page: name, width, scrollWidth: found.scrollWidth, wide: found.wide });
    }
  }

  const open = async (path: string, name = path) => {
    await page.goto(`${store.url}${path}`);
    await measure(name);
  };

  test('storefront, checkout, portal, plan changes, errors, the admin screen and /docs fit the screen', async () => {
    const client = new StoreClient(store.url, 'mobile-admin-token');

    // ---- storefront
    await open('/', 'storefront: products');
    await open('/products/photon', 'product: photon (four plans)');
    await open('/products/photon-presets', 'product: photon-presets (one plan)');
    await open('/products/photon?plan=team-yearly', 'product: photon ?plan=team-yearly');

    // ---- checkout through the form, and its confirmation with the key
    await page.goto(`${store.url}/products/photon`);
    await page.getByLabel('Pro – $15.00 per month').check();
    await page.getByLabel('Email address').fill('a.rather.long.address.for.a.phone@example.com');
    await page.getByRole('button', { name: 'Place test order' }).click();
    await page
      .getByRole('heading', { level: 1, name: 'Thank you – your license is ready' })
      .waitFor();
    await measure('checkout: confirmation with the license key');
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered key is the point
    const key = (await page.locator('#license-key').innerText()).trim();

    // ---- a device with a long name, usage: the portal's tables have rows
    const device = await deviceKey();
    const activated = await client.proven('/v1/licenses/activate', key, device, {
      device: { publicJwk: device.publicJwk, name: 'Studio workstation on the second floor' },
    });
    expect(activated?.status).toBe(200);

    // ---- the portal
    await open('/portal/license', 'portal: license (device, usage, downloads)');
    await open('/portal/plan?plan=team-yearly', 'portal: upgrade preview (month → year)');
    await open('/portal/plan?plan=team-yearly&seats=12', 'portal: upgrade preview, 12 seats');
    await open('/portal/plan?plan=lifetime', 'portal: upgrade preview (one-time plan)');
    await open('/portal/plan?plan=free', 'portal: downgrade preview');
    await page.getByRole('button', { name: /^Confirm/ }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await measure('portal: downgrade scheduled');
    await open('/portal/license', 'portal: license with a pending downgrade');
    await open('/portal/cancel', 'portal: cancel, replacing the scheduled downgrade');
    await page.getByRole('link', { name: /^Keep/ }).click();
    await page.getByRole('button', { name: 'Keep my current plan' }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await open('/portal/cancel', 'portal: cancel');
    await page.getByRole('button', { name: /^Cancel the/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Your plan is cancelled' }).waitFor();
    await measure('portal: cancelled');
    await open('/portal/cancel', 'error: 409 page (already cancelled)');

    // ---- offline activation: the form, its preview, the response with its QR code
    const offline = await createOfflineRequest(await deviceKey(), {
      kind: 'activate',
      product: 'photon',
      keyHint: licenseKeyHint(key),
    });
    await open('/portal/license/offline', 'portal: offline activation form');
    await page.getByLabel('Paste the request').fill(offline.text);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Review the offline request' }).waitFor();
    await measure('portal: offline activation preview');
    await page.getByRole('button', { name: 'Confirm and get the response' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your offline response' }).waitFor();
    await measure('portal: offline response (text, file, QR code)');

    // ---- error pages
    await open('/no/such/page', 'error: 404 page');
    await open('/portal/plan?plan=no-such-plan', 'error: 400 page');
    await open('/portal/attachments/att_missing', 'error: 404 page in the portal');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/portal/);
    await open('/portal', 'portal: sign-in');

    // ---- the admin screen: sign-in, orders, refund, licenses, webhooks, catalogue, activity
    const endpoint = await client.admin('POST', '/v1/admin/webhooks', {
      url: 'https://hooks.example.com/a/rather/long/path/for/a/phone/screen/licensekit-events',
    });
    expect(endpoint?.status).toBe(201);
    const sold = await client.checkout({
      productId: 'photon',
      planId: 'team-yearly',
      email: 'an.operator.will.refund.this.rather.long.address@example.com',
    });
    const soldOrder = sold!.body.order.id as string;
    const soldLicense = sold!.body.license.id as string;
    await open('/admin', 'admin: sign-in');
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.error-summary').waitFor();
    await measure('admin: sign-in with an error');
    await page.getByLabel('Admin token').fill('mobile-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Orders' }).waitFor();
    await measure('admin: orders');
    await open('/admin/orders?status=lost&email=nobody', 'admin: orders, filter errors');
    await open(`/admin/orders/${soldOrder}`, 'admin: order');
    await open(`/admin/orders/${soldOrder}/refund`, 'admin: refund confirmation');
    await page.getByRole('button', { name: /^Refund / }).click();
    await page.locator('.notice').waitFor();
    await measure('admin: order refunded, with its activity');
    await open(
      `/admin/licenses?q=${encodeURIComponent('an.operator.will.refund.this.rather.long.address@example.com')}`,
      'admin: licenses of a customer',
    );
    await open(`/admin/licenses/${soldLicense}`, 'admin: license (revoked)');
    await open(
      `/admin/licenses?q=${encodeURIComponent('a.rather.long.address.for.a.phone@example.com')}`,
      'admin: licenses search',
    );
    await page.locator('#licenses-caption').waitFor();
    await page.locator('tbody a').first().click();
    await page.getByRole('heading', { level: 1, name: /^License / }).waitFor();
    await measure('admin: license with a device');
    await page.getByRole('link', { name: 'Revoke this license…' }).click();
    await page.getByRole('heading', { level: 1, name: /^Revoke license/ }).waitFor();
    await measure('admin: revoke confirmation');
    await open('/admin/webhooks', 'admin: webhook endpoints');
    await open(`/admin/webhooks/${endpoint!.body.endpoint.id}`, 'admin: webhook deliveries');
    await open('/admin/catalogue', 'admin: catalogue');
    await open('/admin/catalogue/new', 'admin: new product');
    await open('/admin/catalogue/products/photon', 'admin: product');
    await open('/admin/catalogue/products/photon/plans/team-yearly', 'admin: plan');
    await page.getByLabel('Price', { exact: true }).fill('12,00');
    await page.getByRole('button', { name: 'Save the plan' }).click();
    await page.locator('.error-summary').waitFor();
    await measure('admin: plan with errors');
    await open(
      '/admin/catalogue/products/photon/plans/team-yearly/deactivate',
      'admin: deactivate a plan',
    );
    await open('/admin/activity', 'admin: activity');
    await open('/admin/orders/ord_nothing', 'admin: 404 page');

    // ---- the API reference, rendered, with an operation open
    await page.goto(`${store.url}/docs`);
    await page.locator('.opblock').first().waitFor();
    await measure('/docs: API reference');
    await page.locator('.opblock-summary').first().click();
    await page.locator('.responses-wrapper').first().waitFor();
    await measure('/docs: an operation open');

    const overflowing = measures
      .filter((m) => m.scrollWidth > m.width)
      .map((m) => `${m.page} at ${m.width} px: ${m.scrollWidth} px wide — ${m.wide.join(', ')}`);
    expect(overflowing).toEqual([]);
    expect(violations).toEqual([]);
  });

  test('plan changes: one plan is preselected, the preview shows its sum, a scheduled change is never replaced unseen', async () => {
    const client = new StoreClient(store.url, 'mobile-admin-token');
    const text = (selector = 'main') => pageText(page, selector);

    // A product with a single plan: nothing to choose, it is selected.
    await page.goto(`${store.url}/products/photon-presets`);
    const radios = page.locator('input[name="planId"]');
    expect(await radios.count()).toBe(1);
    expect(await radios.isChecked()).toBe(true);

    // A Pro license, signed in to the portal.
    const bought = await client.checkout({
      productId: 'photon',
      planId: 'pro-monthly',
      email: 'plans@example.com',
    });
    const key = bought!.body.license.key as string;
    await page.goto(`${store.url}/portal`);
    await page.getByLabel('License key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${store.url}/portal/license`);

    // The upgrade's sum, with the numbers the store used: recomputed here with core.
    await page.goto(`${store.url}/portal/plan?plan=team-yearly`);
    const charged = await text('#prorated-amount');
    const formula = await text('#charge-formula');
    const detail = await text('#charge-detail');
    expect(formula).toMatch(
      /^Charged now = new price − unused part of the current period = \$600\.00 − \(\$15\.00 × [\d.]+ days? ÷ (28|29|30|31) days\) = \$600\.00 − \$[\d.]+ = \$[\d.,]+$/,
    );
    expect(formula.endsWith(`= ${charged}`)).toBe(true);
    const [, left, length] = /\(([\d,]+) of the period’s ([\d,]+) seconds are left\)/.exec(detail)!;
    const seconds = (digits: string) => Number(digits!.replace(/,/g, ''));
    const credit = -prorate({
      oldPrice: 1500,
      newPrice: 0,
      periodStart: 0,
      periodEnd: seconds(length!),
      now: seconds(length!) - seconds(left!),
    });
    expect(charged).toBe(formatMoney(60_000 - credit, 'USD'));
    expect(formula).toContain(`= $600.00 − ${formatMoney(credit, 'USD')} =`);
    expect(detail).toContain('New price: Team, $600.00 a year (5 seats × $120.00).');
    expect(detail).toContain('Current price: Pro, $15.00 a month.');

    // A downgrade is scheduled; the next change says it replaces (or withdraws) it.
    await page.goto(`${store.url}/portal/plan?plan=free`);
    expect(await page.locator('#charge-formula').count()).toBe(0);
    await page.getByRole('button', { name: 'Confirm the change to Free' }).click();
    await page.getByRole('heading', { level: 1, name: 'Plan change scheduled' }).waitFor();
    await page.goto(`${store.url}/portal/plan?plan=team-yearly`);
    expect(await text('#replaces-scheduled')).toMatch(
      /^This withdraws a scheduled change\. Scheduled now: Changes to Free on .+\. This change takes effect at once; the scheduled one will then not happen\.$/,
    );
    await page.goto(`${store.url}/portal/cancel`);
    expect(await text('#replaces-scheduled')).toContain(
      'This replaces a scheduled change. Scheduled now: Changes to Free on',
    );
    expect(await text('#replaces-scheduled')).toContain(
      'confirming schedules the cancellation instead',
    );

    // A page shown before a change was scheduled cannot replace it: the page asks again.
    await page.goto(`${store.url}/portal/license`);
    await page.getByRole('button', { name: 'Keep my current plan' }).click();
    await page.goto(`${store.url}/portal/cancel`);
    const stale = page.getByRole('button', { name: 'Cancel the Pro plan' });
    const scheduled = await client.send('POST', '/v1/licenses/plan', {
      body: { planId: 'free', confirm: true },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(scheduled?.body.pendingChange).toMatchObject({ kind: 'downgrade', plan: 'free' });
    await stale.click();
    await page.getByRole('heading', { level: 1, name: 'Cancel the Pro plan?' }).waitFor();
    expect(await text()).toContain('A change is scheduled that this page did not show.');
    expect((await client.status(key))?.body.pendingChange).toMatchObject({ kind: 'downgrade' });
    // Confirmed on the page that shows it, the cancellation replaces it.
    await page
      .getByRole('button', { name: 'Replace the scheduled change and cancel the Pro plan' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Your plan is cancelled' }).waitFor();
    expect((await client.status(key))?.body.pendingChange).toMatchObject({ kind: 'cancel' });
    expect(violations).toEqual([]);
  });
});
