import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import type { Purchase } from '../testing/licensing.js';
import { activate, buy, deviceKey } from '../testing/licensing.js';
import { textNeedles } from '../testing/needles.js';
import { formFields, PageClient } from '../testing/pages.js';
import { listRoutes } from '../testing/routes.js';

/**
 * Who may do what: every admin route (/v1/admin/**) and every portal route (/portal/**),
 * read from Fastify's route tree, tried with every wrong credential — none, a wrong admin
 * token, a license key, the admin token in the query string or a cookie, another customer's
 * portal session, a portal POST without its CSRF token or with another session's. Customer
 * A is the victim: no answer may carry A's license id, key, e-mail, order id, device or
 * session, and A's license, the catalogue and the admin data must be exactly as before.
 * The matrix below lists every route; a route added without a row fails the test.
 */

const ADMIN_TOKEN = ADMIN.authorization.replace(/^Bearer /, '');

/**
 * Every admin route, with a body that would do harm if the request were let through (so
 * that "nothing changed" means something). Path parameters are filled with A's ids.
 */
const ADMIN_MATRIX: Record<string, { body?: (a: Victim) => unknown; contentType?: string }> = {
  'GET /v1/admin/products': {},
  'POST /v1/admin/products': { body: () => ({ id: 'photon', name: 'Taken over' }) },
  'DELETE /v1/admin/products/:productId': {},
  'POST /v1/admin/products/:productId/plans': {
    body: () => ({
      id: 'pro-monthly',
      name: 'Pro',
      price: { amount: 0, currency: 'USD' },
      interval: 'month',
    }),
  },
  'DELETE /v1/admin/products/:productId/plans/:planId': {},
  'GET /v1/admin/orders': {},
  'GET /v1/admin/orders/:orderId': {},
  'POST /v1/admin/orders/:orderId/mark-paid': { body: () => ({}) },
  'POST /v1/admin/orders/:orderId/refunds': { body: () => ({ amount: 1, reason: 'stolen' }) },
  'POST /v1/admin/orders/:orderId/chargebacks': { body: () => ({ amount: 1, reason: 'stolen' }) },
  'GET /v1/admin/orders/:orderId/refunds': {},
  'GET /v1/admin/licenses': {},
  'GET /v1/admin/licenses/:licenseId': {},
  'POST /v1/admin/licenses/:licenseId/revoke': { body: () => ({ reason: 'taken over' }) },
  'POST /v1/admin/licenses/:licenseId/offline': { body: () => ({ request: 'LK1-REQ.x.y' }) },
  'GET /v1/admin/webhooks': {},
  'POST /v1/admin/webhooks': { body: () => ({ url: 'https://attacker.example/hooks' }) },
  'GET /v1/admin/webhooks/:endpointId': {},
  'DELETE /v1/admin/webhooks/:endpointId': {},
  'GET /v1/admin/webhooks/:endpointId/messages': {},
  'GET /v1/admin/attachments': {},
  'POST /v1/admin/attachments': {
    body: () => ({ productId: 'photon', name: 'passwd', path: '../../etc/passwd' }),
  },
  'POST /v1/admin/attachments/upload': { contentType: 'application/octet-stream' },
  'DELETE /v1/admin/attachments/:attachmentId': {},
  'GET /v1/admin/revocations': {},
  'POST /v1/admin/revocations': { body: (a) => ({ kind: 'license', value: a.licenseId }) },
  'POST /v1/admin/revocation-lists': { body: () => ({ list: 'eyJhbGciOiJFZERTQSJ9.e30.sig' }) },
  'POST /v1/admin/log/checkpoint': { body: () => ({}) },
  'GET /v1/admin/vendors': {},
  'POST /v1/admin/vendors': { body: () => ({ id: 'evil', name: 'Evil', shareBps: 10_000 }) },
  'GET /v1/admin/vendors/:vendorId': {},
  'PATCH /v1/admin/vendors/:vendorId': { body: () => ({ shareBps: 10_000, holdDays: 0 }) },
  'PUT /v1/admin/products/:productId/vendor': { body: () => ({ vendorId: 'acme' }) },
  'POST /v1/admin/payouts/run': { body: () => ({}) },
  'GET /v1/admin/payouts': {},
  'GET /v1/admin/payouts/:payoutId': {},
  'POST /v1/admin/payouts/:payoutId/confirm': { body: () => ({ reference: 'stolen' }) },
  'GET /v1/admin/invoices': {},
  'GET /v1/admin/invoices/:invoiceId': {},
  'POST /v1/admin/vendors/:vendorId/tokens': { body: () => ({ label: 'stolen' }) },
  'GET /v1/admin/vendors/:vendorId/tokens': {},
  'DELETE /v1/admin/vendors/:vendorId/tokens/:tokenId': {},
};

/**
 * Admin routes a vendor's token may call (lib/auth.ts `vendorAccess`): each scopes to the
 * vendor's own products, so another vendor's token gets 404 on A's things and lists
 * without them. Every other admin route answers a vendor token 403 VENDOR_FORBIDDEN.
 */
const VENDOR_SCOPED = new Set([
  'GET /v1/admin/products',
  'POST /v1/admin/products',
  'DELETE /v1/admin/products/:productId',
  'POST /v1/admin/products/:productId/plans',
  'DELETE /v1/admin/products/:productId/plans/:planId',
  'GET /v1/admin/orders',
  'GET /v1/admin/orders/:orderId',
  'GET /v1/admin/licenses',
  'GET /v1/admin/licenses/:licenseId',
  'POST /v1/admin/licenses/:licenseId/revoke',
  'POST /v1/admin/licenses/:licenseId/offline',
  'GET /v1/admin/webhooks',
  'POST /v1/admin/webhooks',
  'GET /v1/admin/webhooks/:endpointId',
  'DELETE /v1/admin/webhooks/:endpointId',
  'GET /v1/admin/webhooks/:endpointId/messages',
  'GET /v1/admin/attachments',
  'POST /v1/admin/attachments/upload',
  'DELETE /v1/admin/attachments/:attachmentId',
  'GET /v1/admin/vendors/:vendorId',
  'GET /v1/admin/payouts',
  'GET /v1/admin/payouts/:payoutId',
  'GET /v1/admin/invoices',
  'GET /v1/admin/invoices/:invoiceId',
]);

/** Tokens of a vendor that owns nothing of A's (set in beforeAll). */
const outsider = { token: '', revokedToken: '', acmeTokenId: '' };

/**
 * Every portal route, as a browser of the victim's would send it: A's attachment, A's
 * device, a plan change of A's product. `open` routes need no session.
 */
const PORTAL_MATRIX: Record<
  string,
  { url?: (a: Victim) => string; form?: (a: Victim) => Record<string, string>; open?: true }
> = {
  'GET /portal': { open: true },
  'POST /portal/sign-in': { open: true, form: () => ({ licenseKey: '' }) },
  'GET /portal/email': { open: true },
  'POST /portal/email': { open: true, form: () => ({ email: 'someone@example.com' }) },
  'GET /portal/link': { open: true, url: () => '/portal/link?token=x' },
  'POST /portal/link': { open: true, form: (a) => ({ token: 'x', licenseId: a.licenseId }) },
  'POST /portal/key': {},
  'POST /portal/sign-out': {},
  'GET /portal/license': {},
  'POST /portal/devices/deactivate': { form: (a) => ({ deviceId: a.deviceId }) },
  'GET /portal/token': { url: () => '/portal/token?format=jwt' },
  'GET /portal/attachments/:attachmentId': { url: (a) => `/portal/attachments/${a.attachmentId}` },
  'GET /portal/plan': { url: () => '/portal/plan?plan=team-yearly' },
  'POST /portal/plan': { form: () => ({ plan: 'team-yearly', expectedAmount: '0' }) },
  'GET /portal/cancel': {},
  'POST /portal/cancel': {},
  'POST /portal/cancel/undo': {},
  'GET /portal/pay': {},
  'POST /portal/pay': {},
  'GET /portal/license/offline': {},
  'POST /portal/license/offline': { form: () => ({ request: 'LK1-REQ.x.y' }) },
  'POST /portal/license/offline/confirm': { form: () => ({ request: 'LK1-REQ.x.y' }) },
  'GET /portal/license/offline/responses/:requestHash': {
    url: () => `/portal/license/offline/responses/${'A'.repeat(43)}`,
  },
  'GET /portal/license/offline/responses/:requestHash/file': {
    url: () => `/portal/license/offline/responses/${'A'.repeat(43)}/file`,
  },
  'GET /portal/licenses': {},
  'POST /portal/licenses/open': { form: (a) => ({ licenseId: a.licenseId }) },
  'GET /portal/invoices': {},
  'GET /portal/invoices/:id': { url: (a) => `/portal/invoices/${a.invoiceId}` },
  'GET /portal/invoices/:id/pdf': { url: (a) => `/portal/invoices/${a.invoiceId}/pdf` },
};

/** Customer A: what must not reach anyone else. */
interface Victim {
  purchase: Purchase;
  email: string;
  licenseId: string;
  orderId: string;
  deviceId: string;
  thumbprint: string;
  attachmentId: string;
  endpointId: string;
  payoutId: string;
  invoiceId: string;
}

interface Session {
  /** The `lk_portal` cookie value. */
  id: string;
  csrf: string;
}

interface Probe {
  method: string;
  pattern: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

describe.skipIf(postgresUnavailable)('the authorization matrix', () => {
  let store: TestStore;
  let a: Victim;
  let b: Purchase;
  let aSession: Session;
  let needles: string[];
  let requests = 0;
  let clients = 0;
  const address = () => `10.77.${(++clients >> 8) & 255}.${clients & 255}`;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    // The store's vendor is paid without a hold, so a payout exists to read below.
    await store.app.inject({
      method: 'PATCH',
      url: '/v1/admin/vendors/acme',
      headers: ADMIN,
      payload: { holdDays: 0 },
    });
    const email = `victim-${randomBytes(4).toString('hex')}@example.com`;
    const purchase = await buy(store, { email });
    const device = await deviceKey();
    const activation = await activate(store, purchase.key, device);
    expect(activation.statusCode).toBe(200);
    const upload = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments/upload?productId=photon&name=raw-presets.zip',
      headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('presets'),
    });
    const endpoint = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: ADMIN,
      payload: { url: 'https://hooks.example.com/in' },
    });
    expect([upload.statusCode, endpoint.statusCode]).toEqual([201, 201]);
    // A payout and an invoice to read: the store's vendor paid at once (no hold).
    const run = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/payouts/run',
      headers: ADMIN,
      payload: {},
    });
    const [invoice] = (
      await store.app.inject({ method: 'GET', url: '/v1/admin/invoices', headers: ADMIN })
    ).json().invoices;
    a = {
      purchase,
      email,
      licenseId: purchase.licenseId,
      payoutId: run.json().payouts[0].id,
      invoiceId: invoice.id,
      orderId: purchase.orderId,
      deviceId: activation.json().device.id,
      thumbprint: device.thumbprint,
      attachmentId: upload.json().id,
      endpointId: endpoint.json().endpoint.id,
    };
    // Customer B buys another product: A's product files are none of B's business either.
    b = await buy(store, { productId: 'photon-presets', planId: 'pack-50' });
    aSession = await signIn(a.purchase);
    // Vendor tokens: one of a vendor that owns nothing of A's, one revoked, one of the
    // store's own vendor (its id fills :tokenId).
    const vendor = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/vendors',
      headers: ADMIN,
      payload: { id: 'outsider', name: 'Outsider' },
    });
    const mint = async (vendorId: string) =>
      (
        await store.app.inject({
          method: 'POST',
          url: `/v1/admin/vendors/${vendorId}/tokens`,
          headers: ADMIN,
          payload: {},
        })
      ).json() as { id: string; token: string };
    outsider.token = (await mint('outsider')).token;
    const revoked = await mint('outsider');
    outsider.revokedToken = revoked.token;
    const revocation = await store.app.inject({
      method: 'DELETE',
      url: `/v1/admin/vendors/outsider/tokens/${revoked.id}`,
      headers: ADMIN,
    });
    outsider.acmeTokenId = (await mint('acme')).id;
    expect([vendor.statusCode, revocation.statusCode]).toEqual([201, 200]);
    needles = [
      ...textNeedles(a.purchase.key),
      a.purchase.key,
      a.licenseId,
      a.email,
      a.orderId,
      a.deviceId,
      a.thumbprint,
      aSession.id,
      aSession.csrf,
      ...(a.purchase.token ? [a.purchase.token.slice(-40)] : []),
    ];
  });
  afterAll(async () => {
    console.info(`authorization-matrix: ${requests} requests`);
    await store?.close();
  });

  // ------------------------------------------------------------------ helpers

  async function send(probe: Probe): Promise<LightMyRequestResponse> {
    const request: InjectOptions = {
      method: probe.method as NonNullable<InjectOptions['method']>,
      url: probe.url,
      headers: probe.headers ?? {},
      remoteAddress: address(),
    };
    if (probe.payload !== undefined) request.payload = probe.payload;
    requests++;
    return store.app.inject(request);
  }

  /** Opens a portal session with a purchase's key, through the sign-in form. */
  async function signIn(purchase: Purchase): Promise<Session> {
    const client = new PageClient(store, { remoteAddress: address() });
    const answer = await client.submit('/portal', '/portal/sign-in', { licenseKey: purchase.key });
    requests += 2;
    expect(answer.statusCode).toBe(303);
    const page = await client.get('/portal/license');
    requests++;
    return {
      id: client.cookies.get('lk_portal')!,
      csrf: formFields(page.body, '/portal/sign-out').csrf!,
    };
  }

  /** A's data in any form anywhere in an answer: body, headers, and tokens decoded. */
  function leaksOf(response: LightMyRequestResponse): string[] {
    const headers = JSON.stringify(response.headers);
    const decoded = response.body
      .split(/[^A-Za-z0-9_-]+|\./)
      .filter((part) => part.length >= 16)
      .map((part) => Buffer.from(part, 'base64url').toString('latin1'))
      .join('\n');
    return needles.filter(
      (needle) =>
        response.body.includes(needle) || headers.includes(needle) || decoded.includes(needle),
    );
  }

  function expectNoLeak(response: LightMyRequestResponse, what: string) {
    expect(leaksOf(response), `${what} answered ${response.statusCode} with A's data`).toEqual([]);
    expect(response.statusCode, what).toBeLessThan(500);
  }

  /** A refusal: the status expected, a registered JSON error or a page, nothing of A's. */
  function expectRefused(
    response: LightMyRequestResponse,
    what: string,
    statuses: number[],
    code?: keyof typeof ERROR_CODES,
  ) {
    expectNoLeak(response, what);
    expect(statuses, `${what}: ${response.statusCode} ${response.body.slice(0, 200)}`).toContain(
      response.statusCode,
    );
    if (response.raw.req.method === 'HEAD') return;
    if (String(response.headers['content-type']).startsWith('application/json')) {
      const { error } = response.json() as { error: { code: keyof typeof ERROR_CODES } };
      expect(ERROR_CODES[error.code]?.status, what).toBe(response.statusCode);
      if (code) expect(error.code, what).toBe(code);
    }
  }

  const routeKey = (method: string, pattern: string) => `${method} ${pattern}`;

  function routesUnder(prefix: string) {
    return listRoutes(store.app).filter(
      (route) => route.pattern === prefix || route.pattern.startsWith(`${prefix}/`),
    );
  }

  /** An admin route's URL with A's ids. */
  function adminUrl(pattern: string): string {
    const values: Record<string, string> = {
      productId: 'photon',
      planId: 'pro-monthly',
      orderId: a.orderId,
      licenseId: a.licenseId,
      endpointId: a.endpointId,
      attachmentId: a.attachmentId,
      vendorId: 'acme',
      payoutId: a.payoutId,
      invoiceId: a.invoiceId,
      tokenId: outsider.acmeTokenId,
    };
    return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
      const value = values[name];
      if (!value) throw new Error(`the matrix has no value for :${name} (${pattern})`);
      return value;
    });
  }

  /** Admin routes with HEAD for each GET, as probes carrying their harmful bodies. */
  function adminProbes(): Probe[] {
    return routesUnder('/v1/admin').map((route) => {
      const row =
        ADMIN_MATRIX[routeKey(route.method === 'HEAD' ? 'GET' : route.method, route.pattern)];
      const url = adminUrl(route.pattern);
      if (route.pattern.endsWith('/upload')) {
        return {
          ...route,
          url: `${url}?productId=photon&name=passwd`,
          headers: { 'content-type': row?.contentType ?? 'application/octet-stream' },
          payload: Buffer.from('root:x:0:0'),
        };
      }
      const body = row?.body?.(a);
      return body === undefined
        ? { ...route, url }
        : {
            ...route,
            url,
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          };
    });
  }

  /** What the admin sees of A and the catalogue: must not change under refused requests. */
  async function adminSnapshot(): Promise<unknown[]> {
    const urls = [
      '/v1/admin/products',
      `/v1/admin/licenses/${a.licenseId}`,
      `/v1/admin/orders/${a.orderId}`,
      '/v1/admin/webhooks',
      '/v1/admin/attachments',
      '/v1/admin/revocations',
    ];
    return Promise.all(
      urls.map(async (url) => {
        const response = await store.app.inject({ url, headers: ADMIN });
        expect(response.statusCode, url).toBe(200);
        return response.json();
      }),
    );
  }

  /** A's license as the API and the portal see it. */
  async function victimSnapshot(): Promise<unknown> {
    const status = await store.app.inject({
      url: '/v1/licenses/status',
      headers: { authorization: `Bearer ${a.purchase.key}` },
      remoteAddress: address(),
    });
    expect(status.statusCode).toBe(200);
    return { status: status.json(), admin: await adminSnapshot() };
  }

  // ------------------------------------------------------------------ completeness

  test('the matrix has a row for every admin and portal route, and no row for a route gone', () => {
    for (const [prefix, matrix] of [
      ['/v1/admin', ADMIN_MATRIX],
      ['/portal', PORTAL_MATRIX],
    ] as const) {
      const routes = routesUnder(prefix);
      const keys = new Set(routes.map((route) => routeKey(route.method, route.pattern)));
      const uncovered = [...keys].filter((key) => {
        const [method, pattern] = key.split(' ') as [string, string];
        return !(routeKey(method === 'HEAD' ? 'GET' : method, pattern) in matrix);
      });
      expect(uncovered, `routes under ${prefix} missing from the authorization matrix`).toEqual([]);
      const gone = Object.keys(matrix).filter((key) => !keys.has(key));
      expect(gone, `rows of the matrix for routes that no longer exist`).toEqual([]);
    }
    expect(routesUnder('/v1/admin').length).toBeGreaterThanOrEqual(25);
  });

  test('the checks can see A: the admin and A’s own session do get A’s data', async () => {
    const license = await store.app.inject({
      url: `/v1/admin/licenses/${a.licenseId}`,
      headers: ADMIN,
    });
    expect(leaksOf(license)).toEqual(expect.arrayContaining([a.licenseId, a.deviceId]));
    const order = await store.app.inject({ url: `/v1/admin/orders/${a.orderId}`, headers: ADMIN });
    expect(leaksOf(order)).toEqual(expect.arrayContaining([a.orderId, a.email]));
    const page = await send({
      method: 'GET',
      pattern: '/portal/license',
      url: '/portal/license',
      headers: { cookie: `lk_portal=${aSession.id}` },
    });
    expect(page.statusCode).toBe(200);
    expect(leaksOf(page)).toEqual(expect.arrayContaining([a.licenseId, a.deviceId]));
    const token = await send({
      method: 'GET',
      pattern: '/portal/token',
      url: '/portal/token?format=jwt',
      headers: { cookie: `lk_portal=${aSession.id}` },
    });
    expect(leaksOf(token)).toContain(a.licenseId);
  });

  // ------------------------------------------------------------------ admin

  test('every admin route refuses every credential but the admin token, and changes nothing', async () => {
    const before = await victimSnapshot();
    const aKey = a.purchase.key;
    const basic = Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64');
    const variants: { name: string; headers?: Record<string, string>; query?: string }[] = [
      { name: 'no credentials' },
      { name: 'a wrong admin token', headers: { authorization: 'Bearer wrong-admin-token' } },
      { name: 'the token with a byte more', headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } },
      {
        name: 'the token a byte short',
        headers: { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
      },
      {
        name: 'the token upper-cased',
        headers: { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` },
      },
      { name: 'the token without a scheme', headers: { authorization: ADMIN_TOKEN } },
      { name: 'the token as Basic', headers: { authorization: `Basic ${basic}` } },
      { name: 'an empty bearer', headers: { authorization: 'Bearer ' } },
      { name: 'A’s license key', headers: { authorization: `Bearer ${aKey}` } },
      { name: 'B’s license key', headers: { authorization: `Bearer ${b.key}` } },
      { name: 'A’s portal session', headers: { cookie: `lk_portal=${aSession.id}` } },
      {
        name: 'a revoked vendor token',
        headers: { authorization: `Bearer ${outsider.revokedToken}` },
      },
      {
        name: 'a made-up vendor token',
        headers: { authorization: `Bearer lkv_${'A'.repeat(43)}` },
      },
      {
        name: 'a vendor token a byte short',
        headers: { authorization: `Bearer ${outsider.token.slice(0, -1)}` },
      },
      { name: 'the token in a cookie', headers: { cookie: `admin_token=${ADMIN_TOKEN}` } },
      { name: 'the token in X-Admin-Token', headers: { 'x-admin-token': ADMIN_TOKEN } },
      { name: 'the token in X-Api-Key', headers: { 'x-api-key': ADMIN_TOKEN } },
      {
        name: 'the token as Proxy-Authorization',
        headers: { 'proxy-authorization': `Bearer ${ADMIN_TOKEN}` },
      },
      ...['token', 'access_token', 'admin_token', 'adminToken', 'key', 'authorization'].map(
        (name) => ({
          name: `the token in ?${name}=`,
          query: `${name}=${encodeURIComponent(name === 'authorization' ? `Bearer ${ADMIN_TOKEN}` : ADMIN_TOKEN)}`,
        }),
      ),
    ];
    for (const probe of adminProbes()) {
      for (const variant of variants) {
        const url = variant.query
          ? `${probe.url}${probe.url.includes('?') ? '&' : '?'}${variant.query}`
          : probe.url;
        const response = await send({
          ...probe,
          url,
          headers: { ...probe.headers, ...variant.headers },
        });
        expectRefused(
          response,
          `${probe.method} ${probe.url} with ${variant.name}`,
          [401],
          'ADMIN_TOKEN_INVALID',
        );
      }
    }
    expect(await victimSnapshot()).toEqual(before);
    // The same reads with the admin token are answered: the URLs are right, the token is it.
    for (const probe of adminProbes().filter((p) => p.method === 'GET')) {
      const response = await send({ ...probe, headers: ADMIN });
      expect(response.statusCode, probe.url).toBe(200);
    }
  });

  test('a vendor token: 403 on operator-only routes, and never A’s data on the others', async () => {
    const before = await victimSnapshot();
    for (const probe of adminProbes()) {
      const key = routeKey(probe.method === 'HEAD' ? 'GET' : probe.method, probe.pattern);
      const response = await send({
        ...probe,
        headers: { ...probe.headers, authorization: `Bearer ${outsider.token}` },
      });
      const what = `${probe.method} ${probe.url} with another vendor's token`;
      if (!VENDOR_SCOPED.has(key)) {
        expectRefused(response, what, [403], 'VENDOR_FORBIDDEN');
      } else if (
        probe.pattern.includes(':') ||
        probe.pattern.endsWith('/upload') ||
        key === 'POST /v1/admin/products'
      ) {
        // A's things (the store vendor's product — its id in the body of the product
        // upsert —, A's license, order, files…): not found.
        expectRefused(response, what, [404]);
      } else {
        // Lists of the vendor's own (nothing), or a new endpoint of its own.
        expectNoLeak(response, what);
        expect([200, 201], `${what}: ${response.body.slice(0, 200)}`).toContain(
          response.statusCode,
        );
      }
    }
    // The vendor's own new endpoint is not A's: removed so the snapshot compares A's only.
    await store.db.query('DELETE FROM webhook_endpoints WHERE vendor_id = $1', ['outsider']);
    expect(await victimSnapshot()).toEqual(before);
  });

  test('admin routes in other spellings are refused too, never served', async () => {
    const before = await victimSnapshot();
    for (const probe of adminProbes()) {
      const rest = probe.url.slice('/v1/admin'.length);
      for (const url of [
        `/v1/%61dmin${rest}`,
        `/v1/ADMIN${rest}`,
        `/V1/admin${rest}`,
        `/v1//admin${rest}`,
        `/v1/./admin${rest}`,
        `/v1/x/../admin${rest}`,
        `/v1/admin${rest}/`,
        `/v1/admin${rest}%2F`,
        `/v1/admin${rest};jsessionid=x`,
      ]) {
        const response = await send({ ...probe, url });
        expectRefused(response, `${probe.method} ${url}`, [400, 401, 404]);
      }
    }
    expect(await victimSnapshot()).toEqual(before);
  });

  // ------------------------------------------------------------------ portal

  /** A portal route as a probe: A's URL, and a form (with `csrf` when given). */
  function portalProbes(csrf?: string): Probe[] {
    return routesUnder('/portal').map((route) => {
      const row =
        PORTAL_MATRIX[routeKey(route.method === 'HEAD' ? 'GET' : route.method, route.pattern)]!;
      const url = row.url?.(a) ?? route.pattern;
      if (route.method !== 'POST') return { ...route, url };
      const fields = { ...row.form?.(a), ...(csrf === undefined ? {} : { csrf }) };
      return {
        ...route,
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      };
    });
  }

  const isOpen = (probe: Probe) =>
    PORTAL_MATRIX[routeKey(probe.method === 'HEAD' ? 'GET' : probe.method, probe.pattern)]?.open;

  test('without a session of A’s, no portal route shows or changes A’s license', async () => {
    const before = await victimSnapshot();
    const variants: { name: string; headers: Record<string, string>; query?: string }[] = [
      { name: 'no credentials', headers: {} },
      {
        name: 'a made-up session',
        headers: { cookie: `lk_portal=${randomBytes(32).toString('base64url')}` },
      },
      {
        name: 'A’s license key as a bearer',
        headers: { authorization: `Bearer ${a.purchase.key}` },
      },
      {
        name: 'A’s license key as the session cookie',
        headers: { cookie: `lk_portal=${a.purchase.key}` },
      },
      { name: 'the admin token', headers: ADMIN },
      { name: 'A’s session id in the query', headers: {}, query: `lk_portal=${aSession.id}` },
      {
        name: 'A’s key in the query',
        headers: {},
        query: `licenseKey=${encodeURIComponent(a.purchase.key)}`,
      },
      {
        name: 'A’s session under another cookie name',
        headers: { cookie: `__Host-lk_portal=${aSession.id}; lk_portal_=${aSession.id}` },
      },
    ];
    // The posts carry A's own CSRF token: knowing it is no substitute for the session.
    for (const probe of portalProbes(aSession.csrf)) {
      for (const variant of variants) {
        const url = variant.query
          ? `${probe.url}${probe.url.includes('?') ? '&' : '?'}${variant.query}`
          : probe.url;
        const response = await send({
          ...probe,
          url,
          headers: { accept: 'text/html', ...probe.headers, ...variant.headers },
        });
        const what = `${probe.method} ${url} with ${variant.name}`;
        if (isOpen(probe)) {
          // The sign-in form is for everyone; its post needs the form's own token.
          // A made-up sign-in link is gone (410), never a session.
          expectRefused(response, what, probe.method === 'POST' ? [403] : [200, 410]);
        } else if (probe.method === 'POST') {
          expectRefused(response, what, [401]);
        } else {
          expectRefused(response, what, [303]);
          // The sign-in page; the pay page (where 402 answers and mails link) is named so
          // that signing in goes on to it.
          expect(response.headers.location, what).toBe(
            url === '/portal/pay' ? '/portal?next=pay' : '/portal',
          );
        }
      }
    }
    expect(await victimSnapshot()).toEqual(before);
  });

  test('customer B’s session on A’s license pages, devices and files sees and changes only B’s', async () => {
    const before = await victimSnapshot();
    for (const probe of portalProbes()) {
      // A session of B's of its own for every request: signing out ends one.
      const session = await signIn(b);
      const payload =
        probe.method === 'POST'
          ? new URLSearchParams({
              ...Object.fromEntries(new URLSearchParams(String(probe.payload))),
              csrf: session.csrf,
            }).toString()
          : undefined;
      const response = await send({
        ...probe,
        headers: { accept: 'text/html', ...probe.headers, cookie: `lk_portal=${session.id}` },
        ...(payload === undefined ? {} : { payload }),
      });
      const what = `${probe.method} ${probe.url} in B’s session`;
      expectNoLeak(response, what);
      if (probe.pattern === '/portal/attachments/:attachmentId') {
        expectRefused(response, what, [404]);
      }
      if (probe.pattern === '/portal/devices/deactivate') expectRefused(response, what, [404]);
      if (probe.pattern === '/portal/token' && probe.method === 'GET') {
        // The token is B's: its subject is B's license.
        expect(response.statusCode, what).toBe(200);
        const claims = JSON.parse(
          Buffer.from(response.body.split('.')[1]!, 'base64url').toString(),
        ) as { sub: string };
        expect(claims.sub).toBe(b.licenseId);
      }
    }
    expect(await victimSnapshot()).toEqual(before);
    // A's session was not touched by B's sign-outs.
    const page = await send({
      method: 'GET',
      pattern: '/portal/license',
      url: '/portal/license',
      headers: { cookie: `lk_portal=${aSession.id}` },
    });
    expect(page.statusCode).toBe(200);
  });

  test('every portal POST in A’s session needs A’s CSRF token of that session: 403 and nothing changes', async () => {
    const other = await signIn(a.purchase);
    const bSession = await signIn(b);
    const posts = portalProbes().filter((probe) => probe.method === 'POST' && !isOpen(probe));
    expect(posts.length).toBeGreaterThanOrEqual(5);
    const before = await victimSnapshot();
    const variants: {
      name: string;
      csrf?: string;
      headers?: Record<string, string>;
      query?: string;
    }[] = [
      { name: 'no CSRF token' },
      { name: 'an empty CSRF token', csrf: '' },
      { name: 'B’s CSRF token', csrf: bSession.csrf },
      { name: 'the CSRF token of A’s other session', csrf: other.csrf },
      { name: 'the session id as CSRF token', csrf: aSession.id },
      { name: 'the token a byte short', csrf: aSession.csrf.slice(0, -1) },
      { name: 'the token in the query instead', query: `csrf=${aSession.csrf}` },
      {
        name: 'the right token from another site (Fetch Metadata)',
        csrf: aSession.csrf,
        headers: { 'sec-fetch-site': 'cross-site' },
      },
      {
        name: 'the right token from another origin',
        csrf: aSession.csrf,
        headers: { origin: 'https://attacker.example' },
      },
    ];
    for (const probe of posts) {
      for (const variant of variants) {
        const fields = Object.fromEntries(new URLSearchParams(String(probe.payload)));
        if (variant.csrf !== undefined) fields.csrf = variant.csrf;
        const url = variant.query ? `${probe.url}?${variant.query}` : probe.url;
        const response = await send({
          ...probe,
          url,
          headers: {
            accept: 'text/html',
            ...probe.headers,
            ...variant.headers,
            cookie: `lk_portal=${aSession.id}`,
          },
          payload: new URLSearchParams(fields).toString(),
        });
        const what = `${probe.method} ${probe.url} with ${variant.name}`;
        expect(response.statusCode, `${what}: ${response.body.slice(0, 200)}`).toBe(403);
        expect(response.headers['content-type'], what).toMatch(/^text\/html/);
      }
    }
    // Nothing changed, and A's session is still open (sign-out was refused too).
    expect(await victimSnapshot()).toEqual(before);
    const page = await send({
      method: 'GET',
      pattern: '/portal/license',
      url: '/portal/license',
      headers: { cookie: `lk_portal=${aSession.id}` },
    });
    expect(page.statusCode).toBe(200);
    // With its own token the same session's form goes through: the token was the reason.
    const signOut = await send({
      method: 'POST',
      pattern: '/portal/sign-out',
      url: '/portal/sign-out',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `lk_portal=${other.id}`,
      },
      payload: new URLSearchParams({ csrf: other.csrf }).toString(),
    });
    expect(signOut.statusCode).toBe(303);
  });

  test('the sign-in form needs its own browser’s form token', async () => {
    const browser = new PageClient(store, { remoteAddress: address() });
    const otherBrowser = new PageClient(store, { remoteAddress: address() });
    const token = formFields((await browser.get('/portal')).body, '/portal/sign-in').csrf!;
    const otherToken = formFields((await otherBrowser.get('/portal')).body, '/portal/sign-in')
      .csrf!;
    requests += 2;
    for (const [name, fields, headers] of [
      ['no form token', { licenseKey: a.purchase.key }, {}],
      ['another browser’s form token', { licenseKey: a.purchase.key, csrf: otherToken }, {}],
      [
        'its token from another site',
        { licenseKey: a.purchase.key, csrf: token },
        { 'sec-fetch-site': 'cross-site' },
      ],
    ] as const) {
      const response = await browser.post('/portal/sign-in', fields, headers);
      requests++;
      expectRefused(response, `sign-in with ${name}`, [403]);
      expect(browser.cookies.has('lk_portal'), name).toBe(false);
    }
  });

  test('an expired session of A’s is no session', async () => {
    const session = await signIn(a.purchase);
    store.clock.advance(61 * 60_000);
    for (const probe of portalProbes(session.csrf)) {
      if (isOpen(probe)) continue;
      const response = await send({
        ...probe,
        headers: { accept: 'text/html', ...probe.headers, cookie: `lk_portal=${session.id}` },
      });
      const what = `${probe.method} ${probe.url} after the session expired`;
      expectRefused(response, what, probe.method === 'POST' ? [401] : [303]);
    }
  });
});
