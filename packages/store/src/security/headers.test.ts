import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import { listRoutes, sampleUrl } from '../testing/routes.js';

/**
 * CORS lets browser apps of the configured origins call the license API, and nothing
 * else: not the admin API, not the pages. Every response — JSON, pages, static files,
 * errors of every kind, preflights — carries the security headers and names no server
 * software.
 */

const APP_ORIGIN = 'https://app.example';
const EVIL_ORIGIN = 'https://evil.example';
const REFRESH_HEADERS = ['authorization', 'dpop', 'content-type', 'idempotency-key'];

function preflight(store: TestStore, url: string, origin: string, method = 'POST') {
  return store.app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': REFRESH_HEADERS.join(', '),
    },
  });
}

function expectSecurityHeaders(answer: LightMyRequestResponse, what: string) {
  const headers = answer.headers;
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  expect(headers['referrer-policy'], what).toBe('no-referrer');
  expect(headers['x-frame-options'], what).toBe('DENY');
  const csp = String(headers['content-security-policy']);
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  expect(headers['x-powered-by'], what).toBeUndefined();
  expect(headers.server, what).toBeUndefined();
  for (const value of Object.values(headers)) {
    expect(String(value), what).not.toMatch(/fastify|node\.?js|express|pglite|postgres/i);
  }
}

describe.skipIf(postgresUnavailable)('CORS and security headers', () => {
  let store: TestStore;
  let key: string;

  beforeAll(async () => {
    store = await buildTestStore({
      corsOrigins: [APP_ORIGIN],
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    key = (await buy(store)).key;
  });
  afterAll(async () => store?.close());

  test('a preflight for refresh from an allowed origin allows the headers apps send', async () => {
    const answer = await preflight(store, '/v1/licenses/refresh', APP_ORIGIN);
    expect(answer.statusCode).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(String(answer.headers['access-control-allow-methods'])).toContain('POST');
    const allowed = String(answer.headers['access-control-allow-headers'])
      .toLowerCase()
      .split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(REFRESH_HEADERS));
    expect(String(answer.headers.vary)).toMatch(/origin/i);
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    expectSecurityHeaders(answer, 'preflight');

    // The actual request gets the origin back too (the app may read the token).
    const refresh = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/refresh',
      headers: { origin: APP_ORIGIN, authorization: `Bearer ${key}` },
      payload: {},
    });
    expect(refresh.statusCode).toBe(200);
    expect(refresh.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(refresh.headers['access-control-allow-credentials']).toBeUndefined();
  });

  test('other origins get no CORS grant', async () => {
    const answer = await preflight(store, '/v1/licenses/refresh', EVIL_ORIGIN);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    const status = await store.app.inject({
      url: '/v1/licenses/status',
      headers: { origin: EVIL_ORIGIN, authorization: `Bearer ${key}` },
    });
    expect(status.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('the admin API is not reachable cross-origin, whatever the CORS setting', async () => {
    const open = await buildTestStore({
      corsOrigins: ['*'],
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    try {
      for (const target of [store, open]) {
        const adminRoutes = listRoutes(target.app).filter((route) =>
          route.pattern.startsWith('/v1/admin'),
        );
        expect(adminRoutes.length).toBeGreaterThan(10);
        for (const route of adminRoutes) {
          const url = sampleUrl(route.pattern);
          for (const origin of [APP_ORIGIN, EVIL_ORIGIN]) {
            const answer = await preflight(target, url, origin, route.method);
            expect(answer.headers['access-control-allow-origin'], url).toBeUndefined();
            expect(answer.headers['access-control-allow-credentials'], url).toBeUndefined();
            expect(answer.headers['access-control-allow-headers'], url).toBeUndefined();
          }
          if (route.method !== 'GET') continue;
          const direct = await target.app.inject({
            url,
            headers: { ...ADMIN, origin: APP_ORIGIN, cookie: 'session=x' },
          });
          expect(direct.headers['access-control-allow-origin'], url).toBeUndefined();
        }
        // Spellings the router takes for admin routes are not public API either.
        for (const url of ['/v1/%61dmin/orders', '/v1/./admin/orders', '/v1/x/../admin/orders']) {
          const answer = await preflight(target, url, APP_ORIGIN, 'GET');
          expect(answer.headers['access-control-allow-origin'], url).toBeUndefined();
          const direct = await target.app.inject({
            url,
            headers: { ...ADMIN, origin: APP_ORIGIN },
          });
          expect(direct.headers['access-control-allow-origin'], url).toBeUndefined();
        }
        // The license API itself is open to any origin when configured with '*'.
        if (target === open) {
          const answer = await preflight(open, '/v1/licenses/refresh', EVIL_ORIGIN);
          expect(answer.headers['access-control-allow-origin']).toBe('*');
          expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
        }
      }
    } finally {
      await open.close();
    }
  });

  test('pages, health and metrics grant no cross-origin access', async () => {
    const pages = listRoutes(store.app)
      .filter((route) => route.method === 'GET' && !route.pattern.startsWith('/v1/'))
      .map((route) => sampleUrl(route.pattern, 'photon'));
    for (const url of ['/', '/health', '/metrics', ...pages]) {
      const answer = await store.app.inject({ url, headers: { origin: APP_ORIGIN } });
      expect(answer.headers['access-control-allow-origin'], url).toBeUndefined();
    }
  });

  test('every response carries the security headers: every GET route, and every kind of error', async () => {
    const seen = new Set<number>();
    const check = async (request: InjectOptions, what: string) => {
      const answer = await store.app.inject(request);
      seen.add(answer.statusCode);
      expectSecurityHeaders(answer, `${what} → ${answer.statusCode}`);
      return answer;
    };
    // Every GET route (pages and static files included), with and without credentials.
    for (const route of listRoutes(store.app).filter((r) => r.method === 'GET')) {
      for (const value of ['photon', 'x']) {
        const url = sampleUrl(route.pattern, value);
        await check({ url, headers: { accept: 'text/html' } }, url);
        await check({ url, headers: { authorization: `Bearer ${key}` } }, url);
        await check({ url, headers: ADMIN }, url);
      }
    }
    const json = { 'content-type': 'application/json' };
    await check({ url: '/no/such/page', headers: { accept: 'text/html' } }, '404 page');
    await check({ url: '/v1/no/such/route' }, '404 JSON');
    await check(
      { method: 'POST', url: '/v1/licenses/refresh', headers: json, payload: '{' },
      '400',
    );
    await check({ url: '/v1/licenses/status' }, '401');
    await check({ url: '/v1/admin/orders' }, '401 admin');
    await check(
      {
        method: 'POST',
        url: '/v1/licenses/refresh',
        headers: json,
        payload: `{"t":"${'x'.repeat(MIB)}"}`,
      },
      '413',
    );
    await check(
      {
        method: 'POST',
        url: '/v1/licenses/refresh',
        headers: { 'content-type': 'text/plain' },
        payload: 'x',
      },
      '415',
    );
    await check({ method: 'DELETE', url: '/v1/licenses/status' }, '404 wrong method');
    for (let i = 0; i <= 10; i++) {
      await check(
        {
          url: '/v1/licenses/status',
          headers: { authorization: 'Bearer LK-NOPE' },
          remoteAddress: '192.0.2.99',
        },
        'lookup',
      );
    }
    await check({ method: 'HEAD', url: '/v1/products' }, 'HEAD');
    expect([...seen]).toEqual(expect.arrayContaining([200, 400, 401, 404, 413, 415, 429]));
  });
});

const MIB = 1024 * 1024;
