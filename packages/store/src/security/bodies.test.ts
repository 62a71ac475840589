import { Readable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import type { RouteEntry } from '../testing/routes.js';
import { listRoutes, sampleUrl } from '../testing/routes.js';

/**
 * Request bodies are bounded and typed on every POST route: too large is 413, not JSON
 * is 415, malformed or absurdly nested JSON is 400 — each with a registered error code,
 * never a 500 and never a handler that saw the body. The pages' form posts (routes not
 * under /v1/) answer with pages: 413 past their limit, never a 5xx.
 */

const MIB = 1024 * 1024;
const UPLOAD = '/v1/admin/attachments/upload';

describe.skipIf(postgresUnavailable)('request bodies', () => {
  let store: TestStore;
  /** POST routes of the JSON API. */
  let posts: RouteEntry[];
  /** POST routes of the pages (forms). */
  let forms: RouteEntry[];
  let key: string;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    const all = listRoutes(store.app).filter((route) => route.method === 'POST');
    posts = all.filter((route) => route.pattern.startsWith('/v1/'));
    forms = all.filter((route) => !route.pattern.startsWith('/v1/'));
    key = (await buy(store)).key;
  });
  afterAll(async () => store?.close());

  /** A POST to a route with the credentials it takes (admin token or license key). */
  function post(
    route: RouteEntry,
    headers: Record<string, string>,
    payload: NonNullable<InjectOptions['payload']>,
  ): Promise<LightMyRequestResponse> {
    const auth = route.pattern.startsWith('/v1/admin') ? ADMIN : { authorization: `Bearer ${key}` };
    return store.app.inject({
      method: 'POST',
      url: sampleUrl(route.pattern),
      headers: { ...auth, ...headers },
      payload,
    });
  }

  function expectRegistered(
    answer: { statusCode: number; json(): unknown },
    status: number,
    what: string,
  ) {
    expect(answer.statusCode, what).toBe(status);
    const { error } = answer.json() as {
      error: { code: keyof typeof ERROR_CODES; message: string };
    };
    expect(ERROR_CODES[error.code]?.status, what).toBe(status);
  }

  test('the route list covers the API', () => {
    const patterns = posts.map((route) => route.pattern);
    for (const expected of [
      '/v1/checkout',
      '/v1/licenses/refresh',
      '/v1/licenses/usage',
      '/v1/webhooks/payments/:provider',
      '/v1/admin/products',
      UPLOAD,
    ]) {
      expect(patterns).toContain(expected);
    }
  });

  test('a 1 MiB JSON body is 413 PAYLOAD_TOO_LARGE on every POST route', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(MIB) });
    for (const route of posts) {
      const answer = await post(route, { 'content-type': 'application/json' }, big);
      expectRegistered(answer, 413, route.pattern);
      expect(answer.json()).toEqual({
        error: { code: 'PAYLOAD_TOO_LARGE', message: ERROR_CODES.PAYLOAD_TOO_LARGE.message },
      });
    }
    for (const route of forms) {
      for (const [type, body] of [
        ['application/x-www-form-urlencoded', `licenseKey=${'x'.repeat(MIB)}`],
        ['application/json', big],
      ] as const) {
        const answer = await post(route, { 'content-type': type }, body);
        expect(answer.statusCode, `${route.pattern} as ${type}`).toBe(413);
        expect(answer.headers['content-type']).toMatch(/^text\/html/);
      }
    }
  });

  test('the limit holds for a streamed body without Content-Length', async () => {
    const stream = (prefix: string) =>
      Readable.from(
        (function* () {
          yield prefix;
          for (let i = 0; i < 64; i++) yield 'x'.repeat(16 * 1024);
        })(),
      );
    for (const route of posts) {
      const answer = await post(route, { 'content-type': 'application/json' }, stream('{"a":"'));
      expectRegistered(answer, 413, route.pattern);
    }
    for (const route of forms) {
      const answer = await post(
        route,
        { 'content-type': 'application/x-www-form-urlencoded' },
        stream('licenseKey='),
      );
      expect(answer.statusCode, route.pattern).toBe(413);
    }
  });

  test('100 000 nested arrays are refused, not parsed into a crash', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const route of posts) {
      const answer = await post(route, { 'content-type': 'application/json' }, deep);
      expect([400, 413], route.pattern).toContain(answer.statusCode);
      expectRegistered(answer, answer.statusCode, route.pattern);
    }
    for (const route of forms) {
      const answer = await post(route, { 'content-type': 'application/json' }, deep);
      expect(answer.statusCode, route.pattern).toBeGreaterThanOrEqual(400);
      expect(answer.statusCode, route.pattern).toBeLessThan(500);
    }
  });

  test('deep nesting that fits under the limits is 400', async () => {
    const bodies = [
      '['.repeat(1_900) + ']'.repeat(1_900),
      // A member named __proto__ makes the parser walk the whole tree for prototype poisoning.
      `${'{"a":'.repeat(600)}{"__proto__":{}}${'}'.repeat(600)}`,
    ];
    for (const route of posts) {
      for (const body of bodies) {
        const answer = await post(route, { 'content-type': 'application/json' }, body);
        // The upload route refuses JSON (415) unless its query is already wrong (400).
        const expected = route.pattern === UPLOAD && answer.statusCode === 415 ? 415 : 400;
        expectRegistered(answer, expected, `${route.pattern} ${body.slice(0, 10)}`);
      }
    }
    // The payment webhooks take up to 64 KiB: 30 000 levels.
    const answer = await store.app.inject({
      method: 'POST',
      url: '/v1/webhooks/payments/test',
      headers: { 'content-type': 'application/json' },
      payload: '['.repeat(30_000) + ']'.repeat(30_000),
    });
    expectRegistered(answer, 400, 'payment webhook');
  });

  test('bodies that are not JSON are 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const kinds: [string, string][] = [
      ['text/plain', '{"planId":"pro-yearly"}'],
      ['application/x-www-form-urlencoded', 'productId=photon&planId=pro-monthly'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\ncontent-disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
      ],
      ['application/xml', '<a/>'],
      ['application/octet-stream', '{}'],
      ['application/jsonx', '{}'],
    ];
    const accepted: string[] = [];
    for (const route of posts) {
      for (const [type, payload] of kinds) {
        if (route.pattern === UPLOAD && type === 'application/octet-stream') continue;
        const answer = await post(route, { 'content-type': type }, payload);
        if (answer.statusCode !== 415)
          accepted.push(`${route.pattern} as ${type}: ${answer.statusCode}`);
        else expectRegistered(answer, 415, `${route.pattern} as ${type}`);
      }
    }
    expect(accepted).toEqual([]);
    // Pages take forms; whatever else arrives is refused without a 5xx.
    for (const route of forms) {
      for (const [type, payload] of kinds) {
        const answer = await post(route, { 'content-type': type }, payload);
        expect(answer.statusCode, `${route.pattern} as ${type}`).toBeGreaterThanOrEqual(400);
        expect(answer.statusCode, `${route.pattern} as ${type}`).toBeLessThan(500);
      }
    }
  });

  test('malformed JSON is 400 BAD_REQUEST', async () => {
    for (const route of posts) {
      if (route.pattern === UPLOAD) continue;
      for (const body of ['{', '{"a":1,}', '\u0000', '"\\ud800"x']) {
        const answer = await post(route, { 'content-type': 'application/json' }, body);
        expectRegistered(answer, 400, `${route.pattern} ${JSON.stringify(body)}`);
      }
    }
  });
});
