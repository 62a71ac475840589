import { join } from 'node:path';
import { decodeDocument, parseLicenseClaims, readLicenseClaims } from '@licensekit/core';
import { prepareLicense } from '@licensekit/core/write';
import { createSigner, readPrivateKeyFile } from '@licensekit/issuer';
import { createVerifier } from '@licensekit/verifier';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../lib/clock.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import type { Purchase } from '../testing/licensing.js';
import { buy } from '../testing/licensing.js';
import { listRoutes } from '../testing/routes.js';

/**
 * Vendors as tenants (issue 10): two vendors, A and B, each with its own admin token and
 * products. B's token is tried on every admin route with A's ids: it never gets a 2xx on
 * A's things, never sees A's data in a list, and every route not open to vendors answers
 * 403 VENDOR_FORBIDDEN. A's token works on A's own things, the operator sees both, a
 * revoked token is refused, tokens are kept as hashes only, webhooks go to the vendor
 * whose product the event is about, and tokens carry iss = the vendor, signed by an issuer
 * the store's root certified for that vendor's products only.
 */

/**
 * Admin routes open to a vendor token, and what B's token gets on A's ids: `hidden` (404,
 * as if absent), `list` (200 without A's data), `own` (a write that makes B's own thing).
 * Every other admin route must answer a vendor token 403. A route opened to vendors
 * without a row here fails the completeness test.
 */
const VENDOR_OPEN: Record<string, 'hidden' | 'list' | 'own'> = {
  'GET /v1/admin/products': 'list',
  'POST /v1/admin/products': 'hidden',
  'DELETE /v1/admin/products/:productId': 'hidden',
  'POST /v1/admin/products/:productId/plans': 'hidden',
  'DELETE /v1/admin/products/:productId/plans/:planId': 'hidden',
  'GET /v1/admin/orders': 'list',
  'GET /v1/admin/orders/:orderId': 'hidden',
  'GET /v1/admin/licenses': 'list',
  'GET /v1/admin/licenses/:licenseId': 'hidden',
  'POST /v1/admin/licenses/:licenseId/revoke': 'hidden',
  'POST /v1/admin/licenses/:licenseId/offline': 'hidden',
  'GET /v1/admin/webhooks': 'list',
  'POST /v1/admin/webhooks': 'own',
  'GET /v1/admin/webhooks/:endpointId': 'hidden',
  'DELETE /v1/admin/webhooks/:endpointId': 'hidden',
  'GET /v1/admin/webhooks/:endpointId/messages': 'hidden',
  'GET /v1/admin/attachments': 'list',
  'POST /v1/admin/attachments/upload': 'hidden',
  'DELETE /v1/admin/attachments/:attachmentId': 'hidden',
  'GET /v1/admin/vendors/:vendorId': 'hidden',
  'GET /v1/admin/payouts': 'list',
  'GET /v1/admin/payouts/:payoutId': 'hidden',
  'GET /v1/admin/invoices': 'list',
  'GET /v1/admin/invoices/:invoiceId': 'hidden',
};

/** Bodies that would take A's things over if they got through. */
const BODIES: Record<string, unknown> = {
  'POST /v1/admin/products': { id: 'alpha-app', name: 'Taken over' },
  'POST /v1/admin/products/:productId/plans': {
    id: 'alpha-monthly',
    name: 'Free now',
    price: { amount: 0, currency: 'USD' },
    interval: 'month',
  },
  'POST /v1/admin/licenses/:licenseId/revoke': { reason: 'taken over' },
  'POST /v1/admin/licenses/:licenseId/offline': { request: 'LK1-REQ.x.y' },
  'POST /v1/admin/webhooks': { url: 'https://attacker.example/hooks' },
  'POST /v1/admin/vendors': { id: 'evil', name: 'Evil', shareBps: 10_000 },
  'PATCH /v1/admin/vendors/:vendorId': { shareBps: 10_000, holdDays: 0 },
  'PUT /v1/admin/products/:productId/vendor': { vendorId: 'vendor-b' },
  'POST /v1/admin/payouts/:payoutId/confirm': { reference: 'stolen' },
  'POST /v1/admin/vendors/:vendorId/tokens': { label: 'mine now' },
  'POST /v1/admin/revocations': { kind: 'license', value: 'lic_x' },
  'POST /v1/admin/revocation-lists': { list: 'eyJhbGciOiJFZERTQSJ9.e30.sig' },
};

interface Tenant {
  id: string;
  token: string;
  tokenId: string;
  product: string;
  plan: string;
  purchase: Purchase;
  endpointId: string;
  attachmentId: string;
  payoutId: string;
  invoiceId: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.skipIf(postgresUnavailable)('vendors as tenants', () => {
  let store: TestStore;
  let a: Tenant;
  let b: Tenant;
  let operatorEndpoint: string;

  async function call(options: InjectOptions & { token: string }): Promise<LightMyRequestResponse> {
    const { token, ...rest } = options;
    return store.app.inject({
      ...rest,
      headers: { ...bearer(token), ...(rest.headers as Record<string, string> | undefined) },
    });
  }

  async function expectStatus(response: LightMyRequestResponse, status: number, what: string) {
    expect(response.statusCode, `${what}: ${response.body.slice(0, 300)}`).toBe(status);
  }

  /** A vendor with a token, a product and plan made with that token, and a purchase. */
  async function tenant(id: string, product: string, plan: string): Promise<Tenant> {
    await expectStatus(
      await store.app.inject({
        method: 'POST',
        url: '/v1/admin/vendors',
        headers: ADMIN,
        payload: { id, name: `Vendor ${id}`, holdDays: 0 },
      }),
      201,
      'create vendor',
    );
    const created = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/vendors/${id}/tokens`,
      headers: ADMIN,
      payload: { label: 'ci' },
    });
    await expectStatus(created, 201, 'create token');
    const { token, id: tokenId } = created.json();
    expect(token).toMatch(/^lkv_/);
    await expectStatus(
      await call({
        token,
        method: 'POST',
        url: '/v1/admin/products',
        payload: { id: product, name: `Product of ${id}` },
      }),
      201,
      'vendor creates its product',
    );
    await expectStatus(
      await call({
        token,
        method: 'POST',
        url: `/v1/admin/products/${product}/plans`,
        payload: {
          id: plan,
          name: 'Monthly',
          price: { amount: 1000, currency: 'USD' },
          interval: 'month',
        },
      }),
      201,
      'vendor creates its plan',
    );
    const endpoint = await call({
      token,
      method: 'POST',
      url: '/v1/admin/webhooks',
      payload: { url: `https://${id}.example.com/hooks` },
    });
    await expectStatus(endpoint, 201, 'vendor endpoint');
    expect(endpoint.json().endpoint.vendorId).toBe(id);
    const upload = await call({
      token,
      method: 'POST',
      url: `/v1/admin/attachments/upload?productId=${product}&name=${id}-notes.txt`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(`notes of ${id}`),
    });
    await expectStatus(upload, 201, 'vendor upload');
    const purchase = await buy(store, {
      productId: product,
      planId: plan,
      email: `buyer-of-${id}@example.com`,
    });
    return {
      id,
      token,
      tokenId,
      product,
      plan,
      purchase,
      endpointId: endpoint.json().endpoint.id,
      attachmentId: upload.json().id,
      payoutId: '',
      invoiceId: '',
    };
  }

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    const hook = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: ADMIN,
      payload: { url: 'https://operator.example.com/hooks' },
    });
    operatorEndpoint = hook.json().endpoint.id;
    a = await tenant('vendor-a', 'alpha-app', 'alpha-monthly');
    b = await tenant('vendor-b', 'beta-app', 'beta-monthly');
    const run = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/payouts/run',
      headers: ADMIN,
      payload: {},
    });
    await expectStatus(run, 200, 'payout run');
    for (const t of [a, b]) {
      t.payoutId = run.json().payouts.find((p: { vendorId: string }) => p.vendorId === t.id).id;
      const invoices = await store.app.inject({
        url: `/v1/admin/invoices?vendorId=${t.id}`,
        headers: ADMIN,
      });
      t.invoiceId = invoices.json().invoices[0].id;
    }
  });
  afterAll(async () => store?.close());

  /** What must never reach B: A's ids, key, e-mail, product. */
  const needlesOf = (t: Tenant) => [
    t.purchase.licenseId,
    t.purchase.orderId,
    t.purchase.key,
    `buyer-of-${t.id}@example.com`,
    t.product,
    t.endpointId,
    t.attachmentId,
    t.payoutId,
    t.invoiceId,
    t.id,
  ];

  function adminUrl(pattern: string, t: Tenant): string {
    const values: Record<string, string> = {
      productId: t.product,
      planId: t.plan,
      orderId: t.purchase.orderId,
      licenseId: t.purchase.licenseId,
      endpointId: t.endpointId,
      attachmentId: t.attachmentId,
      vendorId: t.id,
      payoutId: t.payoutId,
      invoiceId: t.invoiceId,
      tokenId: t.tokenId,
      refundId: 'ref_x',
    };
    return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
      const value = values[name];
      if (!value) throw new Error(`no value for :${name} (${pattern})`);
      return value;
    });
  }

  function adminRoutes() {
    return listRoutes(store.app).filter((route) => route.pattern.startsWith('/v1/admin/'));
  }

  /** A request of a route with `owner`'s ids and a harmful body, under `token`. */
  function probe(route: { method: string; pattern: string }, owner: Tenant, token: string) {
    const key = `${route.method === 'HEAD' ? 'GET' : route.method} ${route.pattern}`;
    let url = adminUrl(route.pattern, owner);
    const options: InjectOptions & { token: string } = {
      token,
      method: route.method as NonNullable<InjectOptions['method']>,
      url,
    };
    if (route.pattern.endsWith('/upload')) {
      url += `?productId=${owner.product}&name=x.txt`;
      return {
        ...options,
        url,
        headers: { 'content-type': 'application/octet-stream' },
        payload: Buffer.from('x'),
      };
    }
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method)) {
      const body = BODIES[key] ?? {};
      return { ...options, payload: body as Record<string, unknown> };
    }
    return options;
  }

  /** What the operator sees of A: must not change under B's requests. */
  async function snapshotOf(t: Tenant) {
    const urls = [
      `/v1/admin/products`,
      `/v1/admin/licenses/${t.purchase.licenseId}`,
      `/v1/admin/orders/${t.purchase.orderId}`,
      `/v1/admin/webhooks/${t.endpointId}`,
      `/v1/admin/attachments?productId=${t.product}`,
      `/v1/admin/vendors/${t.id}`,
      `/v1/admin/payouts/${t.payoutId}`,
      `/v1/admin/vendors/${t.id}/tokens`,
    ];
    return Promise.all(
      urls.map(async (url) => {
        const response = await store.app.inject({ url, headers: ADMIN });
        expect(response.statusCode, url).toBe(200);
        return response.json();
      }),
    );
  }

  test('the table names only routes that exist (the matrix below finds any route missing)', () => {
    const keys = new Set(adminRoutes().map((route) => `${route.method} ${route.pattern}`));
    expect(Object.keys(VENDOR_OPEN).filter((key) => !keys.has(key))).toEqual([]);
  });

  test('tokens are stored as keyed hashes only, and look like no operator token', async () => {
    const rows = await store.db.query<Record<string, unknown>>('SELECT * FROM vendor_tokens');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const dump = JSON.stringify(rows);
    for (const t of [a, b]) {
      expect(dump).not.toContain(t.token);
      expect(dump).not.toContain(t.token.slice(4));
    }
    for (const row of rows) expect(row.token_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = await store.app.inject({
      url: `/v1/admin/vendors/${a.id}/tokens`,
      headers: ADMIN,
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(a.token);
    expect(listed.json().tokens[0]).toMatchObject({ id: a.tokenId, label: 'ci', revokedAt: null });
  });

  test("B's token on every admin route with A's ids: 404 or 403, never A's data", async () => {
    const before = await snapshotOf(a);
    const needles = needlesOf(a);
    let tried = 0;
    for (const route of adminRoutes()) {
      const key = `${route.method === 'HEAD' ? 'GET' : route.method} ${route.pattern}`;
      const what = `B's token: ${route.method} ${route.pattern}`;
      const response = await call(probe(route, a, b.token));
      tried++;
      const leaked = needles.filter(
        (needle) =>
          response.body.includes(needle) || JSON.stringify(response.headers).includes(needle),
      );
      expect(leaked, `${what} answered ${response.statusCode} with A's data`).toEqual([]);
      const expected = VENDOR_OPEN[key];
      if (expected === undefined) {
        expect(response.statusCode, `${what}: ${response.body.slice(0, 200)}`).toBe(403);
        if (route.method !== 'HEAD') expect(response.json().error.code).toBe('VENDOR_FORBIDDEN');
      } else if (expected === 'hidden') {
        expect(response.statusCode, `${what}: ${response.body.slice(0, 200)}`).toBe(404);
      } else {
        // A list of B's own things, or B's own new endpoint.
        expect([200, 201], `${what}: ${response.body.slice(0, 200)}`).toContain(
          response.statusCode,
        );
      }
    }
    expect(tried).toBeGreaterThanOrEqual(40);
    expect(await snapshotOf(a)).toEqual(before);
  });

  test("A's token works on A's own things and lists only A's", async () => {
    for (const url of [
      `/v1/admin/orders/${a.purchase.orderId}`,
      `/v1/admin/licenses/${a.purchase.licenseId}`,
      `/v1/admin/webhooks/${a.endpointId}`,
      `/v1/admin/webhooks/${a.endpointId}/messages`,
      `/v1/admin/vendors/${a.id}`,
      `/v1/admin/payouts/${a.payoutId}`,
      `/v1/admin/payouts/${a.payoutId}?format=csv`,
      `/v1/admin/invoices/${a.invoiceId}`,
      `/v1/admin/invoices/${a.invoiceId}?format=pdf`,
    ]) {
      await expectStatus(await call({ token: a.token, url }), 200, `A's token: ${url}`);
    }
    const lists = await Promise.all(
      ['products', 'orders', 'licenses', 'webhooks', 'attachments', 'payouts', 'invoices'].map(
        (what) => call({ token: a.token, url: `/v1/admin/${what}` }),
      ),
    );
    const text = lists.map((response) => response.body).join('\n');
    for (const needle of [a.purchase.orderId, a.purchase.licenseId, a.endpointId, a.payoutId])
      expect(text).toContain(needle);
    for (const needle of needlesOf(b)) expect(text).not.toContain(needle);
    // Nor the store's own catalogue: the seeded products belong to the store's vendor.
    expect(lists[0]!.json().products.map((p: { id: string }) => p.id)).toEqual([a.product]);
    // Asking for another vendor's payouts by query still lists only A's own.
    const asked = await call({ token: a.token, url: `/v1/admin/payouts?vendorId=${b.id}` });
    expect(asked.body).not.toContain(b.payoutId);
  });

  test('the operator sees both vendors; a vendor cannot mint or revoke tokens', async () => {
    const orders = await store.app.inject({ url: '/v1/admin/orders', headers: ADMIN });
    expect(orders.body).toContain(a.purchase.orderId);
    expect(orders.body).toContain(b.purchase.orderId);
    const hooks = await store.app.inject({ url: '/v1/admin/webhooks', headers: ADMIN });
    for (const id of [a.endpointId, b.endpointId, operatorEndpoint])
      expect(hooks.body).toContain(id);
    for (const [method, url] of [
      ['POST', `/v1/admin/vendors/${a.id}/tokens`],
      ['GET', `/v1/admin/vendors/${a.id}/tokens`],
      ['DELETE', `/v1/admin/vendors/${a.id}/tokens/${a.tokenId}`],
      ['GET', '/v1/admin/vendors'],
      ['POST', '/v1/admin/payouts/run'],
    ] as const) {
      const response = await call({ token: a.token, method, url, payload: {} });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json().error.code).toBe('VENDOR_FORBIDDEN');
    }
  });

  test('a revoked token answers 401; an unknown lkv_ token too', async () => {
    const created = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/vendors/${a.id}/tokens`,
      headers: ADMIN,
    });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.json();
    await expectStatus(await call({ token, url: '/v1/admin/orders' }), 200, 'fresh token');
    // B's id in the path does not reach A's token.
    const wrong = await store.app.inject({
      method: 'DELETE',
      url: `/v1/admin/vendors/${b.id}/tokens/${id}`,
      headers: ADMIN,
    });
    expect(wrong.statusCode).toBe(404);
    const revoked = await store.app.inject({
      method: 'DELETE',
      url: `/v1/admin/vendors/${a.id}/tokens/${id}`,
      headers: ADMIN,
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    const refused = await call({ token, url: '/v1/admin/orders' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('ADMIN_TOKEN_INVALID');
    const forged = `lkv_${'A'.repeat(43)}`;
    expect((await call({ token: forged, url: '/v1/admin/orders' })).statusCode).toBe(401);
    // Other tokens of the vendor keep working.
    await expectStatus(await call({ token: a.token, url: '/v1/admin/orders' }), 200, 'A again');
  });

  test("webhooks: a vendor's endpoint gets its products' events only, the operator's all", async () => {
    const rows = await store.db.query<{
      endpoint_id: string;
      payload: { data: { productId?: string } };
    }>('SELECT endpoint_id, payload FROM webhook_outbox');
    const productsOf = (endpoint: string) =>
      new Set(
        rows.filter((row) => row.endpoint_id === endpoint).map((row) => row.payload.data.productId),
      );
    expect([...productsOf(a.endpointId)]).toEqual([a.product]);
    expect([...productsOf(b.endpointId)]).toEqual([b.product]);
    const all = productsOf(operatorEndpoint);
    expect(all.has(a.product) && all.has(b.product)).toBe(true);
  });

  test('tokens carry iss = the vendor and verify with the store root; the scope is enforced', async () => {
    const keys = (await store.app.inject({ url: '/v1/keys' })).json();
    const verifierFor = (product: string) =>
      createVerifier({ trust: { roots: keys.roots }, product, clock: () => store.clock.now() });
    for (const t of [a, b]) {
      const claims = readLicenseClaims(decodeDocument(t.purchase.token!, 'license'));
      expect(claims).toMatchObject({ iss: t.id, aud: t.product, sub: t.purchase.licenseId });
      expect((await verifierFor(t.product).verify(t.purchase.token!)).valid).toBe(true);
      const published = keys.issuers.find((issuer: { vendor: string }) => issuer.vendor === t.id);
      expect(published).toBeDefined();
      expect(JSON.stringify(published)).not.toContain('"d"');
    }
    // The store's own vendor keeps its issuer and "*" certificate (zero config).
    expect(keys.issuers[0].vendor).toBe('acme');

    // A's issuer key, certified for A's products, signing for B's product: refused.
    const signer = await createSigner(
      await readPrivateKeyFile(join(store.dataDir, 'keys', 'vendors', a.id, 'issuer.json')),
    );
    const certificate = keys.issuers.find((i: { vendor: string }) => i.vendor === a.id).certificate;
    const now = seconds(store.clock.now());
    // Signed by hand: the issuer package itself refuses to sign outside a certificate's scope.
    const forge = async (claims: Record<string, unknown>) => {
      const complete = parseLicenseClaims({
        iss: a.id,
        sub: b.purchase.licenseId,
        aud: b.product,
        plan: b.plan,
        iat: now,
        nbf: now,
        exp: now + 86_400,
        jti: 'AAAAAAAAAAAAAAAAAAAAAA',
        seq: 0,
        access: 'full',
        ...claims,
      });
      const prepared = prepareLicense(complete, { format: 'cwt', kid: signer.kid, certificate });
      return prepared.finish(await signer.sign(prepared.signingInput));
    };
    for (const claims of [{}, { iss: b.id }]) {
      const verdict = await verifierFor(b.product).verify(await forge(claims));
      expect(verdict).toMatchObject({
        valid: false,
        status: 'untrusted_key',
        reason: 'certificate_out_of_scope',
      });
    }
    // The same key for A's own product is fine: the refusal above is the scope, nothing else.
    const own = await forge({ aud: a.product, sub: a.purchase.licenseId, plan: a.plan });
    expect((await verifierFor(a.product).verify(own)).valid).toBe(true);
  });

  test("a vendor's current issuer key cannot be revoked: its customers' next tokens would all be refused", async () => {
    const keys = (await store.app.inject({ url: '/v1/keys' })).json();
    const kidOf = (vendor: string) =>
      keys.issuers.find((issuer: { vendor: string }) => issuer.vendor === vendor).key.kid;
    const revoke = (value: string) =>
      store.app.inject({
        method: 'POST',
        url: '/v1/admin/revocations',
        headers: ADMIN,
        payload: { kind: 'key', value, reason: 'test' },
      });
    const refused = await revoke(kidOf(a.id));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'CONFLICT' });
    expect(refused.json().error.message).toContain(`vendor ${a.id}`);
    expect(refused.json().error.message).toContain(`keys/vendors/${a.id}`);
    // Nothing was recorded, and A's customers still get tokens that verify.
    const listed = (
      await store.app.inject({ url: '/v1/admin/revocations', headers: ADMIN })
    ).json();
    expect(
      listed.revocations.filter((r: { kind: string; value: string }) => r.value === kidOf(a.id)),
    ).toEqual([]);
    const verdict = await createVerifier({
      trust: { roots: keys.roots },
      product: a.product,
      clock: () => store.clock.now(),
    }).verify(a.purchase.token!);
    expect(verdict.valid).toBe(true);
  });

  test("a vendor's new product gets its key re-certified on its first token; a product moved signs for its new vendor at once", async () => {
    await expectStatus(
      await call({
        token: a.token,
        method: 'POST',
        url: '/v1/admin/products',
        payload: { id: 'alpha-two', name: 'Second product of A' },
      }),
      201,
      'second product',
    );
    await expectStatus(
      await call({
        token: a.token,
        method: 'POST',
        url: '/v1/admin/products/alpha-two/plans',
        payload: {
          id: 'two-monthly',
          name: 'Monthly',
          price: { amount: 500, currency: 'USD' },
          interval: 'month',
        },
      }),
      201,
      'second plan',
    );
    const purchase = await buy(store, { productId: 'alpha-two', planId: 'two-monthly' });
    const keys = (await store.app.inject({ url: '/v1/keys' })).json();
    const verifier = createVerifier({
      trust: { roots: keys.roots },
      product: 'alpha-two',
      clock: () => store.clock.now(),
    });
    expect(await verifier.verify(purchase.token!)).toMatchObject({ valid: true });
    expect(readLicenseClaims(decodeDocument(purchase.token!, 'license')).iss).toBe(a.id);
    // And B still cannot see it.
    const seen = await call({ token: b.token, url: '/v1/admin/products' });
    expect(seen.body).not.toContain('alpha-two');

    // Moved to B by another instance (straight in the database: this instance's cache is
    // not told): the next refresh reads the vendor with the license and signs for B.
    await store.db.query('UPDATE products SET vendor_id = $1 WHERE id = $2', [b.id, 'alpha-two']);
    const refreshed = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/refresh',
      headers: { authorization: `Bearer ${purchase.key}` },
      payload: {},
    });
    expect(refreshed.statusCode).toBe(200);
    const token = refreshed.json().token as string;
    expect(readLicenseClaims(decodeDocument(token, 'license')).iss).toBe(b.id);
    const after = (await store.app.inject({ url: '/v1/keys' })).json();
    const verifierAfter = createVerifier({
      trust: { roots: after.roots },
      product: 'alpha-two',
      clock: () => store.clock.now(),
    });
    expect(await verifierAfter.verify(token)).toMatchObject({ valid: true });
  });
  // A vendor's revocation through the API left no entry on the admin screen's activity:
  // the operator could not tell who had revoked a license, or why.
  test("a vendor's revocation of its own license is on the license's admin activity", async () => {
    const purchase = await buy(store, {
      productId: a.product,
      planId: a.plan,
      email: 'revoked-by-vendor@example.com',
    });
    await expectStatus(
      await call({
        token: a.token,
        method: 'POST',
        url: `/v1/admin/licenses/${purchase.licenseId}/revoke`,
        payload: { reason: 'chargeback at the bank' },
      }),
      200,
      'vendor revoke',
    );
    const entries = await store.db.query<{ action: string; actor: string; reason: string }>(
      `SELECT action, actor, detail->>'reason' AS reason FROM admin_actions WHERE target = $1`,
      [purchase.licenseId],
    );
    expect(entries).toEqual([
      { action: 'license.revoked', actor: 'vendor:vendor-a', reason: 'chargeback at the bank' },
    ]);
  });
});
