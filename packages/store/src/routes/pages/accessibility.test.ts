import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createVendorToken } from '../../services/vendor-tokens.js';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { activate, buy, context, deviceKey } from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  licenseKeyIn,
  PageClient,
  tags,
  textOf,
} from '../../testing/pages.js';

/**
 * Walks every page of the storefront and the portal, in the states that change what they
 * show (errors, trial, devices, pending change, unpaid), and checks each one against the
 * accessibility and CSP rules of testing/pages.ts. The store logs at `trace` meanwhile: no
 * line may hold the license key or the session id.
 */
describe.skipIf(postgresUnavailable)('every page is accessible and CSP-clean', () => {
  let store: TestStore;
  const logLines: string[] = [];

  beforeAll(async () => {
    store = await buildTestStore({
      logger: {
        level: 'trace',
        stream: new Writable({
          write(chunk, _encoding, done) {
            logLines.push(String(chunk));
            done();
          },
        }),
      },
    });
  });
  afterAll(async () => store?.close());

  test('storefront and portal, through a purchase, sign-in, a device, plan changes and a cancellation', async () => {
    const client = new PageClient(store, { remoteAddress: '10.3.0.1' });
    await client.get('/');
    await client.get('/products/photon');
    await client.get('/products/photon-presets');
    await client.get('/products/photon?plan=pro-monthly');
    await client.post('/checkout', formFields(client.responses.at(-1)!.response.body, '/checkout'));
    const bought = await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: 'walk@example.com',
    });
    const key = licenseKeyIn(bought.body)!;
    expect(key).toBeDefined();
    await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: 'walk-trial@example.com',
      trial: 'yes',
    });
    await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: 'walk-trial@example.com',
      trial: 'yes',
    });
    await client.get('/no-such-page');

    // The portal, with a device and a pending change.
    const device = await deviceKey();
    expect((await activate(store, key, device)).statusCode).toBe(200);
    const fresh = new PageClient(store, { remoteAddress: '10.3.0.2' });
    await fresh.get('/portal');
    await fresh.submit('/portal', '/portal/sign-in', { licenseKey: '' });
    await fresh.submit('/portal', '/portal/sign-in', { licenseKey: 'LK-NOPE' });
    await fresh.submit('/portal', '/portal/sign-in', { licenseKey: key });
    await fresh.get('/portal/license');
    await fresh.get('/portal/plan?plan=team-yearly');
    const preview = fresh.responses.at(-1)!.response.body;
    await fresh.post('/portal/plan', {
      ...formFields(preview, '/portal/plan'),
      expectedAmount: '1',
    });
    await fresh.get('/portal/plan?plan=free');
    await fresh.post(
      '/portal/plan',
      formFields(fresh.responses.at(-1)!.response.body, '/portal/plan'),
    );
    await fresh.get('/portal/license');
    await fresh.get('/portal/cancel');
    await fresh.post(
      '/portal/cancel',
      formFields(fresh.responses.at(-1)!.response.body, '/portal/cancel'),
    );
    await fresh.get('/portal/license');
    await fresh.get('/portal/cancel');
    await fresh.post('/portal/cancel', {});
    await fresh.get('/portal/plan?plan=nope');

    // An unpaid license: its page and the 402 page.
    const unpaid = await buy(store, { provider: 'manual' });
    const third = new PageClient(store, { remoteAddress: '10.3.0.3' });
    await third.submit('/portal', '/portal/sign-in', { licenseKey: unpaid.key });
    await third.get('/portal/license');
    await third.get('/portal/token');

    const pages = [...client.responses, ...fresh.responses, ...third.responses].filter(
      ({ response }) => String(response.headers['content-type']).startsWith('text/html'),
    );
    const statuses = new Set(pages.map(({ response }) => response.statusCode));
    expect([...statuses].sort()).toEqual([200, 400, 401, 402, 403, 404, 409]);
    const titles = new Set<string>();
    for (const { url, response } of pages) {
      expect(accessibilityProblems(response.body), `${url} (${response.statusCode})`).toEqual([]);
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      titles.add(/<title>([^<]*)<\/title>/.exec(response.body)![1]!);
    }
    // Every kind of page was checked.
    for (const title of [
      'Products',
      'Photon',
      'Error: Photon',
      'Order confirmation',
      'Sign in to the customer portal',
      'Error: Sign in to the customer portal',
      'Your Photon license',
      'Review your plan change',
      'Plan change scheduled',
      'Cancel the Pro plan',
      'Your plan is cancelled',
      'Page not found',
      'Payment required',
      'This action is not allowed',
      'That is not possible right now',
      'Something in the request is not right',
    ]) {
      expect([...titles]).toContain(`${title} – acme store`);
    }

    // No log line of all this holds the key or a session id.
    const sessionIds = [fresh.cookies.get('lk_portal'), third.cookies.get('lk_portal')];
    expect(logLines.length).toBeGreaterThan(50);
    for (const line of logLines) {
      expect(line).not.toContain(key);
      expect(line).not.toContain(unpaid.key);
      expect(licenseKeyIn(line)).toBeUndefined();
      for (const id of sessionIds) expect(line).not.toContain(id!);
    }
  });

  test('a failure inside a page is a 500 page that names nothing internal', async () => {
    const client = new PageClient(store, { remoteAddress: '10.3.0.4' });
    const purchase = await buy(store);
    await client.submit('/portal', '/portal/sign-in', { licenseKey: purchase.key });
    await store.db.query('ALTER TABLE portal_sessions RENAME TO portal_sessions_away');
    try {
      const response = await client.get('/portal/license');
      expect(response.statusCode).toBe(500);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      const text = textOf(response.body);
      expect(text).toContain('Something went wrong');
      expect(text).not.toMatch(/portal_sessions|relation|SELECT|Error:|at /);
      expect(accessibilityProblems(response.body)).toEqual([]);
    } finally {
      await store.db.query('ALTER TABLE portal_sessions_away RENAME TO portal_sessions');
    }
    expect((await client.get('/portal/license')).statusCode).toBe(200);
  });

  test('the layout: skip link, landmarks, labelled navigation, the stylesheet and script as files', async () => {
    const page = (await new PageClient(store).get('/')).body;
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(tags(page, 'a')[0]).toEqual({ class: 'skip-link', href: '#main' });
    expect(tags(page, 'main')).toEqual([{ id: 'main', tabindex: '-1' }]);
    expect(tags(page, 'nav')).toEqual([{ 'aria-label': 'Main' }]);
    expect(tags(page, 'link')).toEqual([
      // No favicon request (a 404 in every browser console).
      { rel: 'icon', href: 'data:,' },
      { rel: 'stylesheet', href: expect.stringMatching(/^\/static\/site\.css\?v=[\w-]{16}$/) },
    ]);
    const css = (await store.app.inject({ url: '/static/site.css' })).body;
    expect(css).toContain(':focus-visible');
    expect(css).toContain('.skip-link:focus');
  });

  test('the marketplace pages: storefront by vendor, portal licenses and invoices, the vendor dashboard', async () => {
    const admin = (method: 'POST' | 'PUT', url: string, payload: object) =>
      store.app.inject({ method, url, headers: ADMIN, payload });
    const tokens: string[] = [];
    for (const [id, product] of [
      ['a11y-lumen', 'photon'],
      ['a11y-presets', 'photon-presets'],
    ] as const) {
      expect((await admin('POST', '/v1/admin/vendors', { id, name: id })).statusCode).toBe(201);
      expect(
        (await admin('PUT', `/v1/admin/products/${product}/vendor`, { vendorId: id })).statusCode,
      ).toBe(200);
      tokens.push((await createVendorToken(store.db, context(store), id)).token);
    }
    const purchase = await buy(store, { email: 'a11y-market@example.com' });
    await buy(store, {
      email: 'a11y-market@example.com',
      productId: 'photon-presets',
      planId: 'pack-50',
    });
    const [invoice] = await store.db.query<{ id: string }>(
      'SELECT id FROM invoices WHERE order_id = $1',
      [purchase.orderId],
    );

    const shopper = new PageClient(store, { remoteAddress: '10.3.0.5' });
    await shopper.get('/');
    await shopper.submit('/portal', '/portal/sign-in', { licenseKey: purchase.key });
    await shopper.get('/portal/licenses');
    await shopper.get('/portal/invoices');
    await shopper.get(`/portal/invoices/${invoice!.id}`);
    await shopper.get('/portal/invoices/inv_nothing');

    const vendor = new PageClient(store, { remoteAddress: '10.3.0.6' });
    await vendor.get('/vendor');
    await vendor.submit('/vendor', '/vendor/sign-in', { token: '' });
    await vendor.submit('/vendor', '/vendor/sign-in', { token: tokens[0]! });
    await vendor.get('/vendor');
    await vendor.get(`/vendor/invoices/${invoice!.id}`);
    await vendor.get('/vendor/invoices/inv_nothing');

    const titles = new Set<string>();
    for (const { url, response } of [...shopper.responses, ...vendor.responses]) {
      if (!String(response.headers['content-type']).startsWith('text/html')) continue;
      expect(accessibilityProblems(response.body), `${url} (${response.statusCode})`).toEqual([]);
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      titles.add(/<title>([^<]*)<\/title>/.exec(response.body)![1]!);
    }
    for (const title of [
      'Products – acme store',
      'Your licenses – acme store',
      'Your invoices – acme store',
      'Page not found – acme store',
      'Vendor sign-in – acme store vendor dashboard',
      'Error: Vendor sign-in – acme store vendor dashboard',
      'Dashboard of a11y-lumen – acme store vendor dashboard',
      'Page not found – acme store vendor dashboard',
    ]) {
      expect([...titles]).toContain(title);
    }
    expect([...titles].filter((title) => title.startsWith('Invoice TEST-INV-'))).toHaveLength(2);
    // The vendor's token is in no page, header or log line.
    for (const { response } of vendor.responses) {
      expect(response.body).not.toContain(tokens[0]);
      expect(JSON.stringify(response.headers)).not.toContain(tokens[0]);
    }
    for (const line of logLines) expect(line).not.toContain(tokens[0]);
  });
});
