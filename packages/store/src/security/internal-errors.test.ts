import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REDACTED_HEADERS } from '../build.js';
import { ERROR_CODES } from '../errors.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import { listRoutes, sampleUrl } from '../testing/routes.js';

/**
 * A 5xx answer says "something went wrong" and nothing else: no exception text, no SQL,
 * no table, no stack, no file path. The log line of the same request has all of it.
 */

const INTERNAL_BODY = {
  error: { code: 'INTERNAL', message: ERROR_CODES.INTERNAL.message },
};

/** Words that would betray internals in a response. */
const LEAKS = [
  /relation/i,
  /licenses_moved|products_moved/,
  /\bselect\b[^<]*\bfrom\b|\binsert into\b|\bupdate \w+ set\b|\bdelete from\b/i,
  /does not exist/i,
  /\bat\s+\S+\s+\(/, // a stack frame
  /\/work\/|node_modules|\.[cm]?[jt]s:\d+|file:\/\//, // a source file position
  /pglite|postgres|pg_|sqlstate|42P01/i,
  /TypeError|boom/i,
];

describe.skipIf(postgresUnavailable)('5xx answers hide internals', () => {
  let store: TestStore;
  const lines: Record<string, unknown>[] = [];
  let key: string;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      logger: {
        level: 'info',
        redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
        stream: new Writable({
          write(chunk, _encoding, callback) {
            for (const line of String(chunk).split('\n').filter(Boolean))
              lines.push(JSON.parse(line));
            callback();
          },
        }),
      },
    });
    key = (await buy(store)).key;
  });
  afterAll(async () => store?.close());

  function expectHidden(answer: {
    statusCode: number;
    body: string;
    headers: Record<string, unknown>;
  }) {
    expect(answer.statusCode).toBe(500);
    for (const leak of LEAKS) expect(answer.body).not.toMatch(leak);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(String(answer.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  }

  function errorLines(fromIndex: number) {
    return lines.slice(fromIndex).filter((line) => line.level === 50);
  }

  test('a database error (a table gone) is INTERNAL; the log has the SQL error and stack', async () => {
    const before = lines.length;
    await store.db.query('ALTER TABLE licenses RENAME TO licenses_moved');
    try {
      for (const request of [
        { url: '/v1/licenses/status', headers: { authorization: `Bearer ${key}` } },
        { url: '/v1/licenses/token', headers: { authorization: `Bearer ${key}` } },
        {
          method: 'POST' as const,
          url: '/v1/licenses/refresh',
          headers: { authorization: `Bearer ${key}` },
          payload: {},
        },
      ]) {
        const answer = await store.app.inject(request);
        expectHidden(answer);
        expect(answer.json()).toEqual(INTERNAL_BODY);
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
      }
    } finally {
      await store.db.query('ALTER TABLE licenses_moved RENAME TO licenses');
    }
    const logged = errorLines(before);
    expect(logged.length).toBe(3);
    for (const line of logged) {
      const err = line.err as { message: string; stack: string };
      expect(err.message).toMatch(/relation "licenses" does not exist/);
      expect(err.stack).toMatch(/\n\s+at /);
      expect(line.reqId).toBeDefined();
    }
    // And the store works again once the table is back.
    expect(
      (
        await store.app.inject({
          url: '/v1/licenses/status',
          headers: { authorization: `Bearer ${key}` },
        })
      ).statusCode,
    ).toBe(200);
  });

  test('a programming error in a service is INTERNAL; the log has the exception', async () => {
    const before = lines.length;
    const { secrets } = store.app;
    const keyedHash = secrets.keyedHash;
    secrets.keyedHash = () => {
      throw new TypeError(`boom: cannot read ${process.cwd()}/secret at offset 12`);
    };
    try {
      const answer = await store.app.inject({
        url: '/v1/licenses/status',
        headers: { authorization: `Bearer ${key}` },
      });
      expectHidden(answer);
      expect(answer.json()).toEqual(INTERNAL_BODY);
    } finally {
      secrets.keyedHash = keyedHash;
    }
    const [line] = errorLines(before);
    const err = line!.err as { type: string; message: string };
    expect(err.type).toBe('TypeError');
    expect(err.message).toContain('boom');
  });

  test('a page whose data cannot be read is a 500 page that names nothing internal', async () => {
    const before = lines.length;
    await store.db.query('ALTER TABLE products RENAME TO products_moved');
    try {
      const pages = listRoutes(store.app).filter(
        (route) => route.method === 'GET' && ['/', '/products/:productId'].includes(route.pattern),
      );
      for (const route of pages) {
        const answer = await store.app.inject({
          url: sampleUrl(route.pattern, 'photon'),
          headers: { accept: 'text/html' },
        });
        expectHidden(answer);
        expect(answer.headers['content-type']).toMatch(/^text\/html/);
      }
      const json = await store.app.inject({ url: '/v1/products' });
      expectHidden(json);
      expect(json.json()).toEqual(INTERNAL_BODY);
    } finally {
      await store.db.query('ALTER TABLE products_moved RENAME TO products');
    }
    expect(errorLines(before).length).toBeGreaterThanOrEqual(1);
  });

  test('a closed database is INTERNAL too, never a hang or a crash', async () => {
    const closing = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    const purchase = await buy(closing);
    await closing.db.close();
    try {
      const answer = await closing.app.inject({
        url: '/v1/licenses/status',
        headers: { authorization: `Bearer ${purchase.key}` },
      });
      expectHidden(answer);
      expect(answer.json()).toEqual(INTERNAL_BODY);
    } finally {
      await closing.close().catch(() => undefined);
    }
  });
});
