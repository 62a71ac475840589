import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../../lib/clock.js';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import {
  activate,
  buy,
  DAY_MS,
  deviceKey,
  keyGet,
  keyPost,
  storeVerifier,
} from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  licenseKeyIn,
  PageClient,
  setCookies,
  tags,
  textOf,
} from '../../testing/pages.js';
import { formatMoney } from '../../views/format.js';

describe.skipIf(postgresUnavailable)('customer portal pages', () => {
  let store: TestStore;
  let clients = 0;
  const browser = () => new PageClient(store, { remoteAddress: `10.2.0.${++clients}` });

  /** A browser signed in to the portal with the key of `purchase`. */
  async function signedIn(purchase: Purchase): Promise<PageClient> {
    const client = browser();
    const response = await client.submit('/portal', '/portal/sign-in', {
      licenseKey: purchase.key,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/portal/license');
    return client;
  }

  /** The portal page's text, after checking it is a clean, accessible page without the key. */
  async function licensePageText(
    client: PageClient,
    purchase: Purchase,
    url = '/portal/license',
  ): Promise<string> {
    const response = await client.get(url);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain(purchase.key);
    expect(accessibilityProblems(response.body)).toEqual([]);
    return textOf(response.body);
  }

  const csrfOf = async (client: PageClient) =>
    formFields((await client.get('/portal/license')).body, '/portal/sign-out').csrf!;

  beforeAll(async () => {
    store = await buildTestStore();
  });
  afterAll(async () => store?.close());

  test('signing in opens a session: an HttpOnly SameSite=Strict cookie, stored only as a hash', async () => {
    const purchase = await buy(store);
    const client = browser();
    const form = await client.get('/portal');
    expect(form.statusCode).toBe(200);
    expect(accessibilityProblems(form.body)).toEqual([]);
    const response = await client.post('/portal/sign-in', {
      ...formFields(form.body, '/portal/sign-in'),
      licenseKey: ` ${purchase.key.toLowerCase()} `,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/portal/license');
    const cookie = setCookies(response).get('lk_portal')!;
    expect(cookie).toMatch(
      /^lk_portal=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/,
    );
    const id = client.cookies.get('lk_portal')!;
    const rows = await store.db.query<{ id_hash: string; csrf_token: string; expires_at: Date }>(
      'SELECT id_hash, csrf_token, expires_at FROM portal_sessions WHERE license_id = $1',
      [purchase.licenseId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).not.toBe(id);
    expect(rows[0]!.id_hash).not.toContain(id);
    expect(new Date(rows[0]!.expires_at).getTime()).toBe(store.clock.now().getTime() + 3_600_000);
    // /portal now goes straight to the license.
    expect((await client.get('/portal')).headers.location).toBe('/portal/license');
    // Sign out: the session is gone, the cookie cleared.
    const out = await client.post('/portal/sign-out', { csrf: rows[0]!.csrf_token });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/portal?done=signed-out');
    expect(setCookies(out).get('lk_portal')).toMatch(/^lk_portal=; .*Max-Age=0/);
    expect(
      await store.db.query('SELECT 1 FROM portal_sessions WHERE license_id = $1', [
        purchase.licenseId,
      ]),
    ).toEqual([]);
    const after = await client.get('/portal/license', { cookie: `lk_portal=${id}` });
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/portal');
  });

  test('sign-in failures: empty, unknown key (never echoed), no CSRF token, then 429 from the limiter', async () => {
    const purchase = await buy(store);
    const client = browser();
    const form = formFields((await client.get('/portal')).body, '/portal/sign-in');
    const empty = await client.post('/portal/sign-in', { ...form, licenseKey: '' });
    expect(empty.statusCode).toBe(400);
    expect(textOf(empty.body)).toContain('Enter your license key.');
    expect(tags(empty.body, 'a').map((a) => a.href)).toContain('#licenseKey');
    const wrongKey = 'LK-00000-00000-00000-00000-00000-00000-0000';
    const unknown = await client.post('/portal/sign-in', { ...form, licenseKey: wrongKey });
    expect(unknown.statusCode).toBe(401);
    expect(textOf(unknown.body)).toContain('No license matches this key');
    expect(unknown.body).not.toContain(wrongKey);
    expect(
      tags(unknown.body, 'input').find((input) => input.id === 'licenseKey'),
    ).not.toHaveProperty('value');
    expect(accessibilityProblems(unknown.body)).toEqual([]);
    // Without the token (or its cookie, or from another site): 403, and no session.
    for (const [fields, headers] of [
      [{ licenseKey: purchase.key }, {}],
      [{ ...form, licenseKey: purchase.key }, { cookie: '' }],
      [{ ...form, licenseKey: purchase.key }, { 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const refused = await client.post('/portal/sign-in', fields, headers);
      expect(refused.statusCode).toBe(403);
      expect(setCookies(refused).has('lk_portal')).toBe(false);
    }
    // Ten failed lookups a minute, then every sign-in of this client is 429, right key or not.
    for (let attempt = 1; attempt < 10; attempt++) {
      expect(
        (await client.post('/portal/sign-in', { ...form, licenseKey: wrongKey })).statusCode,
      ).toBe(401);
    }
    const limited = await client.post('/portal/sign-in', { ...form, licenseKey: purchase.key });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect(textOf(limited.body)).toContain('Too many attempts');
    expect(accessibilityProblems(limited.body)).toEqual([]);
    // Another client is not affected.
    await signedIn(purchase);
  });

  test('the license page: plan, status, dates, usage and remaining with the reset date, devices', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    expect((await activate(store, purchase.key, device)).statusCode).toBe(200);
    const quotas = (await keyGet(store, '/v1/licenses/quotas', purchase.key)).json().quotas;
    const report = await keyPost(store, '/v1/licenses/usage', purchase.key, {
      license: purchase.licenseId,
      product: 'photon',
      seq: 0,
      generatedAt: seconds(store.clock.now()),
      quotas: { exports: { used: 7, window: seconds(new Date(quotas.exports.windowStart)) } },
    });
    expect(report.statusCode).toBe(202);
    const client = await signedIn(purchase);
    const text = await licensePageText(client, purchase);
    for (const line of [
      'Your Photon license',
      'Plan Pro ($15.00 per month)',
      'Status Active',
      `License key ends in ${purchase.key.replace(/-/g, '').slice(-4)}`,
      'Seats 1 of 2 in use',
      'Paid until February 15, 2026 at 12:00 PM UTC',
      'Grace period ends February 22, 2026 at 12:00 PM UTC',
      'Pending change None',
      'exports 1,000 7 993 February 15, 2026 at 12:00 PM UTC',
      'laptop',
      'TEST MODE',
    ]) {
      expect(text).toContain(line);
    }
  });

  test('use past the limit, reported from offline counts, is shown with the overuse in words', async () => {
    const purchase = await buy(store);
    const quotas = (await keyGet(store, '/v1/licenses/quotas', purchase.key)).json().quotas;
    const report = await keyPost(store, '/v1/licenses/usage', purchase.key, {
      license: purchase.licenseId,
      product: 'photon',
      seq: 0,
      generatedAt: seconds(store.clock.now()),
      quotas: { exports: { used: 5000, window: seconds(new Date(quotas.exports.windowStart)) } },
    });
    expect(report.statusCode).toBe(202);
    const text = await licensePageText(await signedIn(purchase), purchase);
    expect(text).toContain(
      'exports 1,000 5,000 — 4,000 over the limit (reported offline) 0 February 15, 2026 at 12:00 PM UTC',
    );
  });

  test('every portal POST needs the session’s CSRF token (403 page without it, nothing changes)', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const activated = (await activate(store, purchase.key, device)).json();
    const client = await signedIn(purchase);
    const csrf = await csrfOf(client);
    const posts: [string, Record<string, string>][] = [
      ['/portal/plan', { plan: 'team-yearly', seats: '5', expectedAmount: '58500' }],
      ['/portal/cancel', {}],
      ['/portal/cancel/undo', {}],
      ['/portal/devices/deactivate', { deviceId: activated.device.id }],
      ['/portal/sign-out', {}],
    ];
    for (const [url, fields] of posts) {
      for (const token of [undefined, '', 'x'.repeat(43), csrf.slice(0, -1)]) {
        const response = await client.post(
          url,
          token === undefined ? fields : { ...fields, csrf: token },
        );
        expect(response.statusCode, `${url} ${token}`).toBe(403);
        expect(textOf(response.body)).toContain('security token');
        expect(accessibilityProblems(response.body)).toEqual([]);
      }
      // The right token but from another site: refused before the route runs.
      const crossSite = await client.post(
        url,
        { ...fields, csrf },
        { 'sec-fetch-site': 'same-site' },
      );
      expect(crossSite.statusCode).toBe(403);
    }
    const status = (await keyGet(store, '/v1/licenses/status', purchase.key)).json();
    expect(status).toMatchObject({ plan: 'pro-monthly', pendingChange: null, devicesInUse: 1 });
    expect((await client.get('/portal/license')).statusCode).toBe(200);
    // Without a session: GETs go to the sign-in page, POSTs are refused.
    const stranger = browser();
    expect((await stranger.get('/portal/license')).headers.location).toBe('/portal');
    expect((await stranger.get('/portal/token')).headers.location).toBe('/portal');
    const noSession = await stranger.post('/portal/cancel', { csrf });
    expect(noSession.statusCode).toBe(401);
    expect(textOf(noSession.body)).toContain('Sign in again');
  });

  test('upgrade: the preview shows the prorated amount the API quotes; confirming charges it', async () => {
    const purchase = await buy(store);
    store.clock.advance(10 * DAY_MS + 3_600_000);
    const api = await keyPost(store, '/v1/licenses/plan', purchase.key, {
      planId: 'team-yearly',
      confirm: false,
    });
    expect(api.statusCode).toBe(200);
    const quote = api.json();
    expect(quote.kind).toBe('upgrade');
    expect(quote.amount).toBeGreaterThan(58_500);
    const client = await signedIn(purchase);
    const license = await client.get('/portal/license');
    // Nothing chosen but the billing cycle, which starts on the license's own.
    expect(formFields(license.body, '/portal/plan')).toEqual({ cycle: 'month' });
    const preview = await client.get('/portal/plan?plan=team-yearly&seats=');
    expect(preview.statusCode).toBe(200);
    expect(accessibilityProblems(preview.body)).toEqual([]);
    const amount = formatMoney(quote.amount, 'USD');
    const text = textOf(preview.body);
    expect(text).toContain(`Charged now ${amount} (prorated for the rest of the period)`);
    expect(text).toContain('Takes effect January 25, 2026 at 1:00 PM UTC');
    expect(text).toContain('New plan Team ($120.00 per seat per year), 5 seats');
    const confirm = formFields(preview.body, '/portal/plan');
    expect(confirm).toMatchObject({
      plan: 'team-yearly',
      seats: '5',
      expectedAmount: String(quote.amount),
    });
    // Previewing changed nothing.
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).json().plan).toBe(
      'pro-monthly',
    );

    // A confirmation for another amount than the current one is refused: a new preview.
    const stale = await client.post('/portal/plan', {
      ...confirm,
      expectedAmount: String(quote.amount - 1),
    });
    expect(stale.statusCode).toBe(409);
    expect(textOf(stale.body)).toContain('The amount changed since your preview');
    expect(formFields(stale.body, '/portal/plan').expectedAmount).toBe(String(quote.amount));
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).json().plan).toBe(
      'pro-monthly',
    );

    const done = await client.post('/portal/plan', confirm);
    expect(done.statusCode).toBe(200);
    expect(accessibilityProblems(done.body)).toEqual([]);
    const doneText = textOf(done.body);
    expect(doneText).toContain('Plan changed');
    expect(doneText).toContain('You are now on the Team plan with 5 seats');
    expect(doneText).toContain(`Charged ${amount} (test payment, no money moved)`);
    const orders = (
      await store.app.inject({
        url: `/v1/admin/orders?licenseId=${purchase.licenseId}`,
        headers: ADMIN,
      })
    ).json().orders as { kind: string; amount: { amount: number } }[];
    expect(orders.find((order) => order.kind === 'upgrade')?.amount.amount).toBe(quote.amount);
    expect(await licensePageText(client, purchase)).toContain(
      'Plan Team ($120.00 per seat per year)',
    );
    // Pressing confirm again (a reload) charges nothing more.
    const again = await client.post('/portal/plan', confirm);
    expect(again.statusCode).toBe(409);
  });

  test('downgrade: scheduled for the period end, shown as pending, and can be withdrawn', async () => {
    const purchase = await buy(store, { planId: 'team-yearly', seats: 3 });
    const client = await signedIn(purchase);
    const preview = await client.get('/portal/plan?plan=pro-monthly');
    expect(preview.statusCode).toBe(200);
    const text = textOf(preview.body);
    expect(text).toContain('Kind Downgrade');
    expect(text).toContain('Charged now $0.00');
    expect(text).toContain('(the end of your current period)');
    const done = await client.post('/portal/plan', formFields(preview.body, '/portal/plan'));
    expect(done.statusCode).toBe(200);
    const status = (await keyGet(store, '/v1/licenses/status', purchase.key)).json();
    expect(status.pendingChange).toMatchObject({ kind: 'downgrade', plan: 'pro-monthly' });
    expect(textOf(done.body)).toContain('Plan change scheduled');
    const page = await licensePageText(client, purchase);
    expect(page).toContain('Pending change Changes to Pro on');
    const csrf = await csrfOf(client);
    const kept = await client.post('/portal/cancel/undo', { csrf });
    expect(kept.statusCode).toBe(303);
    expect(kept.headers.location).toBe('/portal/license?done=kept');
    const after = await licensePageText(client, purchase, kept.headers.location);
    expect(after).toContain('you keep your current plan');
    expect(after).toContain('Pending change None');
  });

  test('cancel: the confirmation and the result show the effective date and the free plan after it', async () => {
    const purchase = await buy(store);
    const client = await signedIn(purchase);
    const periodEnd = (await keyGet(store, '/v1/licenses/status', purchase.key)).json().expiresAt;
    const confirm = await client.get('/portal/cancel');
    expect(confirm.statusCode).toBe(200);
    expect(accessibilityProblems(confirm.body)).toEqual([]);
    expect(confirm.body).toContain(`datetime="${periodEnd}"`);
    expect(textOf(confirm.body)).toContain('The license moves to the Free plan (free).');
    const done = await client.post('/portal/cancel', formFields(confirm.body, '/portal/cancel'));
    expect(done.statusCode).toBe(200);
    expect(accessibilityProblems(done.body)).toEqual([]);
    expect(done.body).toContain(`<strong id="cancel-effective"><time datetime="${periodEnd}">`);
    expect(textOf(done.body)).toContain('The license moves to the Free plan (free).');
    const status = (await keyGet(store, '/v1/licenses/status', purchase.key)).json();
    expect(status.pendingChange).toEqual({ kind: 'cancel', at: periodEnd, plan: 'free' });
    const page = await licensePageText(client, purchase);
    expect(page).toContain('Pending change Cancelled: the current plan ends on');
    expect(page).toContain('then the license moves to the Free plan (free)');
    expect(page).toContain('The license is already cancelled.');
    // Cancelling again from a stale page is a 409 page, not a second cancellation.
    expect((await client.get('/portal/cancel')).statusCode).toBe(409);
  });

  test('device deactivation frees the seat', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const activated = (await activate(store, purchase.key, device)).json();
    const client = await signedIn(purchase);
    const page = await client.get('/portal/license');
    const form = formFields(page.body, '/portal/devices/deactivate');
    expect(form.deviceId).toBe(activated.device.id);
    expect(textOf(page.body)).toContain('Deactivate laptop');
    const response = await client.post('/portal/devices/deactivate', form);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/portal/license?done=device-deactivated#devices');
    const after = await licensePageText(client, purchase, response.headers.location);
    expect(after).toContain('The device was deactivated');
    expect(after).toContain('No device is activated.');
    expect(after).toContain('Seats 0 of 2 in use');
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).json().devicesInUse).toBe(0);
    // Deactivating it again: 404 page.
    expect((await client.post('/portal/devices/deactivate', form)).statusCode).toBe(404);
  });

  test('the current token downloads as a file and verifies against the root key from /v1/keys', async () => {
    for (const [body, expected] of [
      [{}, 'active'],
      [{ trial: true, email: 'portal-trial@example.com' }, 'trial'],
    ] as const) {
      const purchase = await buy(store, body);
      const client = await signedIn(purchase);
      const response = await client.get('/portal/token');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-disposition']).toBe(
        `attachment; filename="photon-${purchase.licenseId}.lic"`,
      );
      expect(response.headers['cache-control']).toBe('no-store');
      const verifier = await storeVerifier(store);
      const result = await verifier.verify(response.body);
      expect(result).toMatchObject({ valid: true, status: expected });
      expect(result.claims?.sub).toBe(purchase.licenseId);
      const jwt = await client.get('/portal/token?format=jwt');
      expect(jwt.body.split('.')).toHaveLength(3);
    }
  });

  test('attachments download through the portal, metered by the plan’s quota', async () => {
    const purchase = await buy(store, { productId: 'photon-presets', planId: 'pack-50' });
    const client = await signedIn(purchase);
    const page = await client.get('/portal/license');
    const link = tags(page.body, 'a').find((a) => a.href?.startsWith('/portal/attachments/'));
    expect(link).toBeDefined();
    expect(textOf(page.body)).toContain('demo-presets.json');
    expect(textOf(page.body)).toContain('(50 left)');
    const download = await client.get(link!.href!);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-disposition']).toContain('demo-presets.json');
    expect(download.headers['licensekit-quota-remaining']).toBe('49');
    expect(download.body.length).toBeGreaterThan(0);
    const range = await client.get(link!.href!, { range: 'bytes=0-9' });
    expect(range.statusCode).toBe(206);
    expect(range.body).toHaveLength(10);
    expect(textOf((await client.get('/portal/license')).body)).toContain('(49 left)');
    expect((await client.get('/portal/attachments/att_missing')).statusCode).toBe(404);
  });

  test('an unpaid license signs in and sees why; its token is a 402 page with the pay link', async () => {
    const purchase = await buy(store, { provider: 'manual' });
    const client = await signedIn(purchase);
    const text = await licensePageText(client, purchase);
    expect(text).toContain('Status Awaiting payment');
    // Its order (an invoice here) is paid on the pay page, not by subscribing again.
    expect(text).toContain('A payment of the order is being processed. See the payment');
    expect(text).not.toContain('Subscribe to Photon');
    expect(textOf((await client.get('/portal/pay')).body)).toContain(
      'This order is paid by invoice or bank transfer',
    );
    const token = await client.get('/portal/token');
    expect(token.statusCode).toBe(402);
    expect(token.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(tags(token.body, 'a').map((a) => a.href)).toContain('http://store.test/portal/pay');
    expect(accessibilityProblems(token.body)).toEqual([]);
  });

  test('the key appears in no portal response, URL or header', async () => {
    const purchase = await buy(store);
    const client = await signedIn(purchase);
    for (const url of [
      '/portal/license',
      '/portal/token',
      '/portal/cancel',
      '/portal/plan?plan=free',
    ]) {
      await client.get(url);
    }
    for (const { url, response } of client.responses) {
      expect(url).not.toContain(purchase.key);
      expect(response.body).not.toContain(purchase.key);
      expect(licenseKeyIn(response.body)).toBeUndefined();
      expect(JSON.stringify(response.headers)).not.toContain(purchase.key);
    }
  });

  test('sessions end after an hour', async () => {
    const purchase = await buy(store);
    const client = await signedIn(purchase);
    store.clock.advance(3_600_000 - 1);
    expect((await client.get('/portal/license')).statusCode).toBe(200);
    store.clock.advance(1);
    const expired = await client.get('/portal/license');
    expect(expired.statusCode).toBe(303);
    expect(expired.headers.location).toBe('/portal');
  });
});
