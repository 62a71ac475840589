import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { checkoutRequest, keyGet } from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  licenseKeyIn,
  PageClient,
  setCookies,
  tags,
  textOf,
} from '../../testing/pages.js';

describe.skipIf(postgresUnavailable)('storefront pages', () => {
  let store: TestStore;
  let clients = 0;
  /** A browser of its own (cookies, client address: the failure limiter is per client). */
  const browser = () => new PageClient(store, { remoteAddress: `10.1.0.${++clients}` });
  const orderCount = async () =>
    Number(
      (await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders'))[0]?.n ?? 0,
    );

  beforeAll(async () => {
    store = await buildTestStore();
  });
  afterAll(async () => store?.close());

  test('the product list shows the seeded catalogue', async () => {
    const response = await browser().get('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    const text = textOf(response.body);
    expect(text).toContain('Photon');
    expect(text).toContain('Photon Preset Packs');
    expect(text).toContain('paid plans from $15.00 per month');
    expect(tags(response.body, 'a').map((a) => a.href)).toEqual(
      expect.arrayContaining(['/products/photon', '/products/photon-presets']),
    );
    expect(accessibilityProblems(response.body)).toEqual([]);
  });

  test('a product page shows every plan with its terms; ?plan= preselects one', async () => {
    const response = await browser().get('/products/photon?plan=team-yearly');
    expect(response.statusCode).toBe(200);
    const text = textOf(response.body);
    for (const line of [
      'Free – no charge',
      'Pro – $15.00 per month',
      '14-day free trial',
      '1,000 exports a month',
      'Features: basic-filters, raw-import, export-4k, batch',
      'Team – $120.00 per seat per year',
      '5 seats by default',
      'Unlimited exports',
      'Lifetime – $249.00 one payment, no expiry',
      'TEST MODE',
      'Place test order',
    ]) {
      expect(text).toContain(line);
    }
    // Pro is offered monthly and yearly: one plan choice, the cycle a choice of its own.
    const radios = tags(response.body, 'input').filter(
      (input) => input.type === 'radio' && input.name === 'planId',
    );
    expect(radios.map((radio) => radio.value)).toEqual([
      'free',
      'pro-monthly',
      'team-yearly',
      'lifetime',
    ]);
    expect(radios.filter((radio) => 'checked' in radio).map((radio) => radio.value)).toEqual([
      'team-yearly',
    ]);
    const hidden = formFields(response.body, '/checkout');
    expect(hidden.idempotencyKey).toMatch(/^[\w-]{22}$/);
    expect(hidden.csrf).toMatch(/^[\w-]{43}$/);
    // The form cookie the CSRF token is bound to.
    const cookie = setCookies(response).get('lk_form');
    expect(cookie).toMatch(/^lk_form=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(accessibilityProblems(response.body)).toEqual([]);
    // Every rendering of the form has its own idempotency key.
    const again = formFields((await browser().get('/products/photon')).body, '/checkout');
    expect(again.idempotencyKey).not.toBe(hidden.idempotencyKey);
  });

  test('an unknown product or page is a 404 page; the API keeps JSON errors', async () => {
    for (const url of ['/products/nope', '/products/NOT%20AN%20ID', '/no-such-page']) {
      const response = await browser().get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(textOf(response.body)).toContain('Page not found');
      expect(accessibilityProblems(response.body)).toEqual([]);
    }
    const api = await store.app.inject({ url: '/v1/nope', headers: { accept: 'text/html' } });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
  });

  test('names and descriptions from the catalogue render inert', async () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const created = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products',
      headers: ADMIN,
      payload: { id: 'evil', name: evil, description: `"><script>alert(3)</script>` },
    });
    expect(created.statusCode).toBe(201);
    const plan = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products/evil/plans',
      headers: ADMIN,
      payload: {
        id: 'basic',
        name: `Basic</label><script>alert(4)</script>`,
        price: { amount: 100, currency: 'USD' },
        interval: 'month',
      },
    });
    expect(plan.statusCode).toBe(201);
    for (const url of ['/', '/products/evil']) {
      const page = (await browser().get(url)).body;
      expect(page).not.toMatch(/<script>alert|<img src=x|<\/label><script>/);
      expect(page).toContain(
        '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;',
      );
      expect(tags(page, 'script')).toEqual([
        expect.objectContaining({ src: expect.stringMatching(/^\/static\/site\.js\?v=/) }),
      ]);
      expect(tags(page, 'img')).toEqual([]);
      expect(accessibilityProblems(page)).toEqual([]);
    }
    await store.db.query("DELETE FROM plans WHERE product_id = 'evil'");
    await store.db.query("DELETE FROM products WHERE id = 'evil'");
  });

  test('buying Pro: the confirmation shows the key once, the status, a token link and the portal', async () => {
    const client = browser();
    const page = await client.get('/products/photon?plan=pro-monthly');
    const formCookie = client.cookies.get('lk_form');
    const response = await client.post('/checkout', {
      ...formFields(page.body, '/checkout'),
      email: 'ada@example.com',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const key = licenseKeyIn(response.body);
    expect(key).toBeDefined();
    const text = textOf(response.body);
    expect(text).toContain('Thank you – your license is ready');
    expect(text).toContain('it will not be shown again');
    expect(text).toContain('License status Active');
    expect(text).toContain('Charged $15.00 (test payment, no money moved)');
    expect(text).toContain('TEST MODE');
    expect(tags(response.body, 'a').map((a) => a.href)).toEqual(
      expect.arrayContaining(['/portal/token', '/portal/license']),
    );
    expect(accessibilityProblems(response.body)).toEqual([]);
    // The key is real: the API knows it.
    const status = await keyGet(store, '/v1/licenses/status', key!);
    expect(status.json()).toMatchObject({ status: 'active', plan: 'pro-monthly', test: true });
    // Signed in to the portal: HttpOnly, SameSite=Strict, one hour, not Secure over http.
    const cookies = setCookies(response);
    expect(cookies.get('lk_portal')).toMatch(
      /^lk_portal=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/,
    );
    // The form secret rotated with this answer.
    expect(client.cookies.get('lk_form')).toMatch(/^[\w-]{43}$/);
    expect(client.cookies.get('lk_form')).not.toBe(formCookie);
    // Nowhere in a URL or a header.
    for (const { url, response: each } of client.responses) {
      expect(url).not.toContain(key!);
      expect(JSON.stringify(each.headers)).not.toContain(key!);
    }

    // Every later response of this browser: no key.
    const later = client.responses.length;
    await client.get('/portal/license');
    await client.get('/portal/token');
    await client.get('/products/photon');
    await client.get('/');
    // A reload of the confirmation resubmits the form: refused, without the key.
    const resubmitted = await client.post('/checkout', {
      ...formFields(page.body, '/checkout'),
      email: 'ada@example.com',
    });
    expect(resubmitted.statusCode).toBe(403);
    expect(textOf(resubmitted.body)).toContain('your license key was on its confirmation page');
    for (const { url, response: each } of client.responses.slice(later)) {
      expect(each.body, url).not.toContain(key!);
      expect(licenseKeyIn(each.body), url).toBeUndefined();
    }
  });

  test('a double submission makes one order; the second answer to the same browser repeats the confirmation', async () => {
    const client = browser();
    const page = await client.get('/products/photon?plan=pro-monthly');
    const fields: Record<string, string> = {
      ...formFields(page.body, '/checkout'),
      email: 'double@example.com',
    };
    const cookie = `lk_form=${client.cookies.get('lk_form')}`;
    const before = await orderCount();
    // Both sent before the first answer arrived: both carry the original form cookie.
    const [first, second] = await Promise.all([
      client.post('/checkout', fields, { cookie }),
      client.post('/checkout', fields, { cookie }),
    ]);
    expect(await orderCount()).toBe(before + 1);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const keys = [licenseKeyIn(first.body), licenseKeyIn(second.body)];
    expect(keys[0]).toBeDefined();
    expect(keys[1]).toBe(keys[0]);
    const replays = [first, second].filter((r) => r.headers['idempotent-replayed'] === 'true');
    expect(replays).toHaveLength(1);
    expect(textOf(replays[0]!.body)).toContain('Nothing was ordered twice');
    // After an answer arrived (its rotated cookie is in the jar), the form is dead.
    const late = await client.post('/checkout', fields);
    expect(late.statusCode).toBe(403);
    expect(licenseKeyIn(late.body)).toBeUndefined();
    expect(await orderCount()).toBe(before + 1);
    // The form's key is not the checkout's Idempotency-Key: the API cannot replay it.
    const api = await checkoutRequest(
      store,
      {
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'double@example.com',
        provider: 'test',
      },
      fields.idempotencyKey,
    );
    expect(api.statusCode).toBe(201);
    expect(api.headers['idempotent-replayed']).toBeUndefined();
    expect(api.json().license.key).not.toBe(keys[0]);
  });

  test('checkout refuses a post without a valid CSRF token, without its cookie, or from another site', async () => {
    const client = browser();
    const page = await client.get('/products/photon?plan=pro-monthly');
    const fields = { ...formFields(page.body, '/checkout'), email: 'csrf@example.com' };
    const other = formFields((await client.get('/products/photon')).body, '/checkout');
    const before = await orderCount();
    const attempts = [
      client.post('/checkout', { ...fields, csrf: '' }),
      client.post('/checkout', { ...fields, csrf: 'A'.repeat(43) }),
      // A token from another rendering of the form is bound to another idempotency key.
      client.post('/checkout', { ...fields, csrf: other.csrf! }),
      // No form cookie (a cross-site post does not carry a SameSite=Strict cookie).
      client.post('/checkout', fields, { cookie: '' }),
      client.post('/checkout', fields, { 'sec-fetch-site': 'cross-site' }),
      client.post('/checkout', fields, { origin: 'https://evil.example' }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(licenseKeyIn(response.body)).toBeUndefined();
      expect(accessibilityProblems(response.body)).toEqual([]);
    }
    expect(await orderCount()).toBe(before);
    // The same post from the store's own page goes through.
    const ok = await client.post('/checkout', fields, { 'sec-fetch-site': 'same-origin' });
    expect(ok.statusCode).toBe(200);
  });

  test('form errors: a summary linked to each field, values kept, the same idempotency key', async () => {
    const client = browser();
    const page = await client.get('/products/photon');
    const hidden = formFields(page.body, '/checkout');
    const response = await client.post('/checkout', { ...hidden, email: 'not-an-email' });
    expect(response.statusCode).toBe(400);
    const text = textOf(response.body);
    expect(text).toContain('There is a problem');
    const links = tags(response.body, 'a').map((a) => a.href);
    expect(links).toEqual(expect.arrayContaining(['#plan-free', '#email']));
    expect(response.body).toContain('<title>Error: Photon');
    const email = tags(response.body, 'input').find((input) => input.id === 'email')!;
    expect(email).toMatchObject({
      value: 'not-an-email',
      'aria-invalid': 'true',
      'aria-describedby': 'email-hint email-error',
    });
    expect(accessibilityProblems(response.body)).toEqual([]);
    const again = formFields(response.body, '/checkout');
    expect(again.idempotencyKey).toBe(hidden.idempotencyKey);

    // No trial on Lifetime; seats must be a count.
    const trialOnLifetime = await client.post('/checkout', {
      ...again,
      planId: 'lifetime',
      email: 'x@example.com',
      trial: 'yes',
    });
    expect(trialOnLifetime.statusCode).toBe(400);
    expect(textOf(trialOnLifetime.body)).toContain('The Lifetime plan has no free trial');
    const badSeats = await client.post('/checkout', {
      ...again,
      planId: 'team-yearly',
      email: 'x@example.com',
      seats: '0',
    });
    expect(badSeats.statusCode).toBe(400);
    expect(tags(badSeats.body, 'a').map((a) => a.href)).toContain('#seats');
    expect(await orderCount()).toBeGreaterThan(0);
  });

  test('a trial starts free; a second trial of the same customer is refused on the form', async () => {
    const client = browser();
    const first = await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: 'trial@example.com',
      trial: 'yes',
    });
    expect(first.statusCode).toBe(200);
    const text = textOf(first.body);
    expect(text).toContain('Your free trial has started');
    expect(text).toContain('Charged Nothing today (free trial)');
    expect(text).toContain('License status Free trial');
    expect(text).toContain('Trial ends January 29, 2026 at 12:00 PM UTC');
    const second = await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: 'TRIAL@example.com',
      trial: 'yes',
    });
    expect(second.statusCode).toBe(409);
    expect(textOf(second.body)).toContain('You have already had a free trial of Photon');
    expect(licenseKeyIn(second.body)).toBeUndefined();
  });

  test('a per-seat plan takes the seat count from the form', async () => {
    const client = browser();
    const response = await client.submit('/products/photon', '/checkout', {
      planId: 'team-yearly',
      email: 'team@example.com',
      seats: '3',
    });
    expect(response.statusCode).toBe(200);
    expect(textOf(response.body)).toContain('Seats 3');
    expect(textOf(response.body)).toContain('Charged $360.00');
  });

  test('the stylesheet and script are served as static files with a content hash', async () => {
    const page = (await browser().get('/')).body;
    const css = tags(page, 'link').find((link) => link.rel === 'stylesheet')!.href!;
    const js = tags(page, 'script')[0]!.src!;
    for (const [url, type] of [
      [css, 'text/css; charset=utf-8'],
      [js, 'text/javascript; charset=utf-8'],
    ] as const) {
      const response = await store.app.inject({ url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const cached = await store.app.inject({
        url,
        headers: { 'if-none-match': String(response.headers.etag) },
      });
      expect(cached.statusCode).toBe(304);
    }
  });
});

describe.skipIf(postgresUnavailable)('storefront over https', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({ publicUrl: 'https://store.test' });
  });
  afterAll(async () => store?.close());

  test('cookies are Secure and __Host- prefixed', async () => {
    const client = new PageClient(store);
    const page = await client.get('/products/photon');
    expect(setCookies(page).get('__Host-lk_form')).toMatch(
      /^__Host-lk_form=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
    );
    const response = await client.post('/checkout', {
      ...formFields(page.body, '/checkout'),
      planId: 'pro-monthly',
      email: 'secure@example.com',
    });
    expect(response.statusCode).toBe(200);
    expect(setCookies(response).get('__Host-lk_portal')).toMatch(
      /^__Host-lk_portal=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure$/,
    );
    expect(response.headers['strict-transport-security']).toBeDefined();
    // A cookie without the prefix (which a sibling subdomain could have set) is ignored.
    const spoofed = await client.get('/portal/license', {
      cookie: `lk_portal=${client.cookies.get('__Host-lk_portal')}`,
    });
    expect(spoofed.statusCode).toBe(303);
    expect((await client.get('/portal/license')).statusCode).toBe(200);
  });
});
