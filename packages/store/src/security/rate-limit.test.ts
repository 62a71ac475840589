import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOfflineRequest } from '@licensekit/core/offline';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Db } from '../db/client.js';
import { openPostgres } from '../db/client.js';
import { ManualClock } from '../lib/clock.js';
import { newLicenseKey } from '../lib/ids.js';
import { keyGuessesRepository } from '../repositories/licenses.js';
import type { TestDatabase, TestStore } from '../testing/harness.js';
import {
  buildTestStore,
  openTestDatabase,
  postgresUnavailable,
  testDatabaseKind,
} from '../testing/harness.js';
import { buy, deviceKey } from '../testing/licensing.js';
import { listRoutes } from '../testing/routes.js';

/**
 * Failed license-key lookups are limited per client: after 10 failures within a minute
 * (a sliding window) every key-authenticated request of that client is 429 with
 * Retry-After, on every route that takes a key. The failures are kept in the database
 * (key_guesses), so the limit holds across a restart and across instances sharing it.
 * Proved here route by route, per client, per window, across instances and restarts,
 * against database faults and against a concurrent brute force.
 */

/** An offline activation request well formed in every way but the key it is sent with. */
const OFFLINE_REQUEST = (
  await createOfflineRequest(await deviceKey(), {
    kind: 'activate',
    product: 'photon',
    keyHint: 'ABCD',
  })
).text;

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
    // A well-formed offline request (not of this store's licenses): the key decides first.
    { method: 'POST', url: '/v1/licenses/offline', payload: { request: OFFLINE_REQUEST } },
  ];
}

describe.skipIf(postgresUnavailable)('failed license-key lookups are rate limited', () => {
  let database: TestDatabase;
  let store: TestStore;
  let routes: KeyRoute[];
  let validKey: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    store = await buildTestStore({
      database,
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    const [attachment] = await store.db.query<{ id: string }>('SELECT id FROM attachments');
    routes = keyRoutes(attachment!.id);
    validKey = (await buy(store)).key;
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  function send(route: KeyRoute, key: string, client: string): Promise<LightMyRequestResponse> {
    return sendTo(store.app, route, key, client);
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
    const docs = (await store.app.inject({ url: '/docs/json' })).json() as {
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
        // A route not in the table must not be one that looks the key up (text answers,
        // such as the log's checkpoint, are not key lookups either).
        const json = String(answer.headers['content-type']).startsWith('application/json');
        expect(json ? answer.json()?.error?.code : undefined, `${method} ${path}`).not.toBe(
          'LICENSE_NOT_FOUND',
        );
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
        expect(answer.headers['retry-after']).toBe('60');
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

  test('429 says in Retry-After when the window lets the client in, and then it does', async () => {
    const client = '203.0.113.55';
    await fail(client);
    store.clock.advance(15_000);
    let answer = await send(routes[0]!, validKey, client);
    expect(answer.statusCode).toBe(429);
    expect(answer.json().error.code).toBe('TOO_MANY_REQUESTS');
    expect(answer.headers['retry-after']).toBe('45');
    store.clock.advance(44_500);
    answer = await send(routes[5]!, validKey, client);
    expect(answer.headers['retry-after']).toBe('1');
    store.clock.advance(500);
    answer = await send(routes[5]!, validKey, client);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['retry-after']).toBeUndefined();
  });

  test('the window slides: failures leave it one by one, a minute after each', async () => {
    const client = '203.0.113.56';
    await fail(client, LIMIT / 2);
    store.clock.advance(30_000);
    await fail(client, LIMIT / 2);
    expect((await send(routes[0]!, validKey, client)).headers['retry-after']).toBe('30');
    store.clock.advance(30_000);
    // The first half has left the window, the second half still counts.
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(200);
    await fail(client, LIMIT / 2);
    const answer = await send(routes[0]!, validKey, client);
    expect(answer.statusCode).toBe(429);
    expect(answer.headers['retry-after']).toBe('30');
  });

  test('concurrent failures recorded on two connections are counted exactly', async () => {
    // Two connection pools on PostgreSQL, as two instances have: INSERT … ON CONFLICT
    // serialises them on the client's row, so every answer sees all the earlier ones.
    const second: Db =
      testDatabaseKind === 'postgres'
        ? await openPostgres({ connectionString: database.url! })
        : store.db;
    try {
      const at = store.clock.now();
      const answers = await Promise.all(
        Array.from({ length: 4 * LIMIT }, (_, i) =>
          keyGuessesRepository(i % 2 ? second : store.db).record(
            '198.51.100.77',
            at,
            WINDOW_MS,
            LIMIT,
          ),
        ),
      );
      expect(answers.map((failures) => failures.length).sort((a, b) => a - b)).toEqual([
        ...Array.from({ length: LIMIT }, (_, i) => i + 1),
        ...Array<number>(3 * LIMIT).fill(LIMIT),
      ]);
    } finally {
      if (second !== store.db) await second.close();
    }
  });

  test('a database fault while recording a failure is no 500 and no lockout', async () => {
    const client = '203.0.113.57';
    const query = store.db.query.bind(store.db);
    const faulty = vi
      .spyOn(store.db, 'query')
      .mockImplementation((sql, params) =>
        /INSERT INTO key_guesses/.test(sql)
          ? Promise.reject(new Error('connection lost'))
          : query(sql, params),
      );
    try {
      // Counted in this instance's memory instead: still 404, then 429 past the limit.
      await fail(client);
      expect((await send(routes[0]!, validKey, client)).statusCode).toBe(429);
      expect((await send(routes[0]!, validKey, '203.0.113.58')).statusCode).toBe(200);
    } finally {
      faulty.mockRestore();
    }
    const [row] = await store.db.query('SELECT 1 FROM key_guesses WHERE client = $1', [client]);
    expect(row).toBeUndefined();
  });

  test('a failing lookup answers as a database outage does and counts no failure', async () => {
    const client = '203.0.113.59';
    const query = store.db.query.bind(store.db);
    const down = vi
      .spyOn(store.db, 'query')
      .mockImplementation((sql, params) =>
        /key_hash = \$1/.test(sql)
          ? Promise.reject(new Error('connection lost'))
          : query(sql, params),
      );
    try {
      for (let i = 0; i < 2 * LIMIT; i++) {
        const answer = await send(routes[0]!, newLicenseKey(), client);
        expect(answer.statusCode).toBeGreaterThanOrEqual(500);
        expect(['INTERNAL', 'SERVICE_UNAVAILABLE']).toContain(answer.json().error.code);
      }
    } finally {
      down.mockRestore();
    }
    expect((await send(routes[0]!, validKey, client)).statusCode).toBe(200);
  });

  test('clients whose failures have all left the window are deleted', async () => {
    const gone = '203.0.113.61';
    const recent = '203.0.113.62';
    await fail(gone, 1);
    // Purging runs on a failure, at most once a window per instance.
    store.clock.advance(2 * WINDOW_MS);
    await fail(recent, 1);
    const clients = (
      await store.db.query<{ client: string }>('SELECT client FROM key_guesses')
    ).map((row) => row.client);
    expect(clients).toContain(recent);
    expect(clients).not.toContain(gone);
    expect(
      (
        await store.db.query('SELECT 1 FROM key_guesses WHERE expires_at <= $1', [
          store.clock.now(),
        ])
      ).length,
    ).toBe(0);
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

describe.skipIf(postgresUnavailable)(
  'the limit is shared by instances and kept across restarts',
  () => {
    const status: KeyRoute = { method: 'GET', url: '/v1/licenses/status' };
    const refresh: KeyRoute = { method: 'POST', url: '/v1/licenses/refresh', payload: {} };
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 12));
    let database: TestDatabase;
    /** A second handle on the same database: a pool of its own on PostgreSQL. */
    let secondDatabase: TestDatabase;
    // One data directory, so every instance has the same store secret (key hashes) and keys.
    let dataDir: string;
    const stores: TestStore[] = [];
    let validKey: string;

    async function instance(on: TestDatabase): Promise<TestStore> {
      const built = await buildTestStore({
        database: on,
        dataDir,
        clock,
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      });
      stores.push(built);
      return built;
    }

    async function fail(app: FastifyInstance, client: string, count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const answer = await sendTo(app, i % 2 ? refresh : status, newLicenseKey(), client);
        expect(answer.statusCode, answer.body).toBe(404);
      }
    }

    beforeAll(async () => {
      database = await openTestDatabase();
      dataDir = mkdtempSync(join(tmpdir(), 'licensekit-rate-limit-'));
      const second =
        testDatabaseKind === 'postgres'
          ? await openPostgres({ connectionString: database.url! })
          : database.db;
      secondDatabase = {
        db: second,
        drop: async () => {
          if (second !== database.db) await second.close();
        },
      };
      validKey = (await buy(await instance(database))).key;
    });
    afterAll(async () => {
      for (const built of stores) await built.close();
      await secondDatabase?.drop();
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('a restart keeps the count: the new process refuses a valid key and says how long', async () => {
      const before = stores[0]!;
      const client = '203.0.113.80';
      await fail(before.app, client, LIMIT);
      expect((await sendTo(before.app, status, validKey, client)).statusCode).toBe(429);
      await before.close();
      stores.splice(stores.indexOf(before), 1);
      clock.advance(20_000);

      const after = await instance(database);
      const answer = await sendTo(after.app, refresh, validKey, client);
      expect(answer.statusCode).toBe(429);
      expect(answer.json().error.code).toBe('TOO_MANY_REQUESTS');
      expect(answer.headers['retry-after']).toBe('40');
      clock.advance(40_000);
      expect((await sendTo(after.app, refresh, validKey, client)).statusCode).toBe(200);
    });

    test('two instances on one database share one limit', async () => {
      const one = stores.at(-1)!;
      const two = await instance(secondDatabase);
      const client = '203.0.113.81';
      // Half the failures on each: neither alone has reached the limit, together they have.
      await fail(one.app, client, LIMIT / 2);
      await fail(two.app, client, LIMIT / 2);
      for (const app of [one.app, two.app]) {
        const answer = await sendTo(app, status, validKey, client);
        expect(answer.statusCode).toBe(429);
        expect(answer.headers['retry-after']).toBe('60');
      }
      // All failures on one instance: the other refuses a valid key it has never seen fail.
      const other = '203.0.113.82';
      await fail(one.app, other, LIMIT);
      expect((await sendTo(two.app, refresh, validKey, other)).statusCode).toBe(429);
      expect((await sendTo(two.app, status, validKey, '203.0.113.83')).statusCode).toBe(200);
      clock.advance(WINDOW_MS);
      expect((await sendTo(two.app, status, validKey, client)).statusCode).toBe(200);
      expect((await sendTo(one.app, status, validKey, other)).statusCode).toBe(200);
    });

    test('a concurrent burst on two instances costs at most the limit in lookups per instance', async () => {
      const [one, two] = stores.slice(-2) as [TestStore, TestStore];
      const client = '203.0.113.84';
      const handles = [...new Set([one.db, two.db])];
      const spies = handles.map((db) => vi.spyOn(db, 'query'));
      try {
        const answers = await Promise.all(
          Array.from({ length: 4_000 }, (_, i) =>
            sendTo(
              i % 2 ? two.app : one.app,
              i % 4 < 2 ? status : refresh,
              newLicenseKey(),
              client,
            ),
          ),
        );
        const perHandle = spies.map(
          (spy) => spy.mock.calls.filter(([sql]) => /WHERE key_hash = \$1/.test(sql)).length,
        );
        // PostgreSQL: one pool per instance, so each instance's own bound shows; PGlite: one
        // handle for both, so only the sum does.
        const bound = handles.length === 2 ? LIMIT : 2 * LIMIT;
        for (const count of perHandle) expect(count).toBeLessThanOrEqual(bound);
        const lookups = perHandle.reduce((sum, count) => sum + count, 0);
        expect(lookups).toBeLessThanOrEqual(2 * LIMIT);
        const codes = new Map<number, number>();
        for (const answer of answers)
          codes.set(answer.statusCode, (codes.get(answer.statusCode) ?? 0) + 1);
        // Every lookup answered 404, or 429 when it found the client already blocked.
        expect(codes.get(404)).toBeGreaterThanOrEqual(LIMIT);
        expect(codes.get(404)).toBeLessThanOrEqual(lookups);
        expect((codes.get(404) ?? 0) + (codes.get(429) ?? 0)).toBe(4_000);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      for (const app of [one.app, two.app])
        expect((await sendTo(app, status, validKey, client)).statusCode).toBe(429);
    });
  },
);

function sendTo(
  app: FastifyInstance,
  route: KeyRoute,
  key: string,
  client: string,
): Promise<LightMyRequestResponse> {
  const request: InjectOptions = {
    method: route.method,
    url: route.url,
    headers: { authorization: `Bearer ${key}` },
    remoteAddress: client,
  };
  if (route.payload !== undefined) request.payload = route.payload as object;
  return app.inject(request);
}
