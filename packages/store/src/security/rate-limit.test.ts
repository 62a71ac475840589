import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { newLicenseKey } from '../lib/ids.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import { listRoutes } from '../testing/routes.js';

/**
 * Failed license-key lookups are limited per client: after 10 failures within a minute
 * every key-authenticated request of that client is 429, on every route that takes a
 * key, without a database lookup. Proved here route by route, per client, per window
 * and against a concurrent brute force.
 */

const LIMIT = 10;
const WINDOW_MS = 60_000;

interface KeyRoute {
  method: 'GET' | 'POST';
  url: string;
  /** A body that passes the route's schema, so the answer depends on the key alone. */
  payload?: unknown;
}

/** Every route that authenticates with the license key (completeness is checked below). */
function keyRoutes(attachmentId: string): KeyRoute[] {
  return [
    { method: 'GET', url: '/v1/licenses/status' },
    { method: 'GET', url: '/v1/licenses/token' },
    { method: 'GET', url: '/v1/licenses/quotas' },
    { method: 'GET', url: '/v1/attachments' },
    { method: 'GET', url: `/v1/attachments/${attachmentId}` },
    { method: 'POST', url: '/v1/licenses/refresh', payload: {} },
    {
      method: 'POST',
      url: '/v1/licenses/activate',
      payload: { device: { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) } } },
    },
    { method: 'POST', url: '/v1/licenses/deactivate', payload: { deviceId: 'dev_nope' } },
    {
      method: 'POST',
      url: '/v1/licenses/usage',
      payload: { license: 'lic_x', product: 'photon', seq: 1, generatedAt: 1, quotas: {} },
    },
    { method: 'POST', url: '/v1/licenses/plan', payload: { planId: 'pro-yearly', confirm: false } },
    { method: 'POST', url: '/v1/licenses/seats', payload: { seats: 2, confirm: false } },
    { method: 'POST', url: '/v1/licenses/cancel', payload: {} },
    { method: 'POST', url: '/v1/licenses/cancel/undo', payload: {} },
  ];
}

describe.skipIf(postgresUnavailable)('failed license-key lookups are rate limited', () => {
  let store: TestStore;
  let routes: KeyRoute[];
  let validKey: string;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    const [attachment] = await store.db.query<{ id: string }>('SELECT id FROM attachments');
    routes = keyRoutes(attachment!.id);
    validKey = (await buy(store)).key;
  });
  afterAll(async () => store?.close());

  function send(route: KeyRoute, key: string, client: string): Promise<LightMyRequestResponse> {
    const request: InjectOptions = {
      method: route.method,
      url: route.url,
      headers: { authorization: `Bearer ${key}` },
      remoteAddress: client,
    };
    if (route.payload !== undefined) request.payload = route.payload as object;
    return store.app.inject(request);
  }

  /** Spends a client's failures: `count` unknown keys, spread over the routes. */
  async function fail(client: string, count = LIMIT): Promise<void> {
    for (let i = 0; i < count; i++) {
      const answer = await send(routes[i % routes.length]!, newLicenseKey(), client);
      expect(answer.statusCode, `${routes[i % routes.length]!.url}: ${answer.body}`).toBe(404);
      expect(answer.json().error.code).toBe('LICENSE_NOT_FOUND');
    }
  }

  test('the table names every route of the API that looks up a license key', async () => {
    const docs = (await store.app.inject({ url: '/docs' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const listed = new Set(routes.map((route) => `${route.method} ${route.url}`));
    const client = '198.51.100.200';
    for (const [path, methods] of Object.entries(docs.paths)) {
      if (path.startsWith('/v1/admin')) continue;
      for (const method of Object.keys(methods)) {
        const url = path.replace(/\{[^}]+\}/g, 'x');
        const route = routes.find(
          (candidate) =>
            candidate.method === method.toUpperCase() &&
            candidate.url.replace(/att_[A-Za-z0-9_-]+$/, 'x') === url,
        );
        if (route) continue;
        const answer = await send(
          { method: method.toUpperCase() as 'GET', url, payload: {} },
          newLicenseKey(),
          client,
        );
        // A route not in the table must not be one that looks the key up.
        expect(answer.json()?.error?.code, `${method} ${path}`).not.toBe('LICENSE_NOT_FOUND');
      }
    }
    expect(listed.size).toBe(routes.length);
  });

  test('past the limit every key route of that client is 429, even with a valid key', async () => {
    const attacker = '203.0.113.10';
    await fail(attacker);
    for (const route of routes) {
      for (const key of [newLicenseKey(), validKey]) {
        const answer = await send(route, key, attacker);
        expect(answer.statusCode, `${route.method} ${route.url}`).toBe(429);
        expect(answer.json().error.code).toBe('TOO_MANY_REQUESTS');
      }
    }
  });

  test('the portal sign-in counts against the same limit and is refused past it', async (context) => {
    if (!listRoutes(store.app).some((route) => route.pattern === '/portal/sign-in')) {
      context.skip();
      return;
    }
    const signIn = async (key: string, client: string) => {
      const form = await store.app.inject({ url: '/portal', remoteAddress: client });
      const setCookie = form.headers['set-cookie'];
      const cookie = (Array.isArray(setCookie) ? setCookie : [setCookie ?? ''])
        .map((value) => value.split(';')[0])
        .join('; ');
      const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      return store.app.inject({
        method: 'POST',
        url: '/portal/sign-in',
        remoteAddress: client,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ csrf, licenseKey: key }).toString(),
      });
    };
    const client = '203.0.113.15';
    expect((await signIn(validKey, client)).statusCode).toBe(303);
    for (let i = 0; i < LIMIT; i++)
      expect((await signIn(newLicenseKey(), client)).statusCode).toBe(401);
    expect((await signIn(validKey, client)).statusCode).toBe(429);
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(429);
  });

  test('the limit is per client: another address is not affected', async () => {
    const attacker = '203.0.113.20';
    const neighbour = '203.0.113.21';
    await fail(attacker);
    expect((await send(routes[0]!, validKey, attacker)).statusCode).toBe(429);
    expect((await send(routes[0]!, validKey, neighbour)).statusCode).toBe(200);
    expect((await send(routes[0]!, newLicenseKey(), neighbour)).statusCode).toBe(404);
  });

  test('IPv6 clients are limited per /64, IPv4-mapped addresses as IPv4', async () => {
    await fail('2001:db8:1:2::1');
    // Rotating addresses within the same /64 (what any IPv6 host can do) does not help.
    expect((await send(routes[0]!, validKey, '2001:db8:1:2:ffff:1:2:3')).statusCode).toBe(429);
    expect((await send(routes[0]!, validKey, '2001:db8:1:3::1')).statusCode).toBe(200);
    await fail('203.0.113.30');
    expect((await send(routes[0]!, validKey, '::ffff:203.0.113.30')).statusCode).toBe(429);
  });

  test('successful lookups do not count', async () => {
    const client = '203.0.113.40';
    for (let i = 0; i < 3 * LIMIT; i++) {
      expect((await send(routes[i % 4]!, validKey, client)).statusCode).toBe(200);
    }
    await fail(client, LIMIT - 1);
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(200);
    expect((await send(routes[0]!, newLicenseKey(), client)).statusCode).toBe(404);
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(429);
  });

  test('the window expires: a minute after the failures the client may try again', async () => {
    const client = '203.0.113.50';
    await fail(client);
    store.clock.advance(WINDOW_MS - 1_000);
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(429);
    store.clock.advance(1_001);
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(200);
    // A fresh window: LIMIT more failures before the next block.
    await fail(client);
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(429);
  });

  test('10 000 concurrent random keys from one client cost at most the limit in lookups', async () => {
    const client = '203.0.113.60';
    const query = vi.spyOn(store.db, 'query');
    try {
      const answers = await Promise.all(
        Array.from({ length: 10_000 }, (_, i) =>
          send(routes[i % routes.length]!, newLicenseKey(), client),
        ),
      );
      const lookups = query.mock.calls.filter(([sql]) => /WHERE key_hash = \$1/.test(sql));
      expect(lookups.length).toBeLessThanOrEqual(LIMIT);
      const codes = new Map<number, number>();
      for (const answer of answers)
        codes.set(answer.statusCode, (codes.get(answer.statusCode) ?? 0) + 1);
      expect(Object.fromEntries(codes)).toEqual({
        404: lookups.length,
        429: 10_000 - lookups.length,
      });
    } finally {
      query.mockRestore();
    }
  });

  test('a burst of valid lookups from one client beyond the limit is served, not refused', async () => {
    const client = '203.0.113.70';
    const answers = await Promise.all(
      Array.from({ length: 4 * LIMIT }, () => send(routes[0]!, validKey, client)),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(4 * LIMIT).fill(200));
  });
});
