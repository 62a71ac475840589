import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Resolver } from '../lib/public-address.js';
import { emitEvent } from '../services/events.js';
import { NOT_PUBLIC_ERROR, OutboxWorker } from '../services/outbox.js';
import { createVendorToken } from '../services/vendor-tokens.js';
import { postPinned } from '../services/webhook-pinned-post.js';
import { webhooksService } from '../services/webhooks.js';
import { ADMIN, WebhookReceiver } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { context } from '../testing/licensing.js';

/**
 * Server-side request forgery through outgoing webhooks. A vendor (its admin token, a
 * semi-trusted tenant) names the URL the store POSTs its events to, from inside the
 * operator's network, and reads back each attempt's outcome (HTTP status, ECONNREFUSED,
 * time-out): an endpoint on a private address would let it map the operator's network.
 * So a vendor's endpoint must be on a public address, at creation and at every delivery;
 * the operator's own endpoints may go anywhere (the network is the operator's).
 */

/** Hosts no vendor may point an endpoint at (the URL parser normalises the odd forms). */
const PRIVATE_URLS = [
  'http://127.0.0.1:9/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]:8080/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::ffff:169.254.169.254]/',
  'http://2130706433/hook', // 127.0.0.1 as one decimal number
  'http://0x7f.1/hook', // 127.0.0.1 in hex and short form
  'http://0.0.0.0:5432/',
  'http://10.0.0.5/',
  'http://172.16.3.4/',
  'https://192.168.1.1/',
  'http://[fd00::1]/',
  'http://[fe80::1]/',
  'http://localhost:8787/v1/admin/orders',
  'http://api.localhost/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://printer.local/',
];

describe.skipIf(postgresUnavailable)('webhook endpoints of vendors (SSRF)', () => {
  let store: TestStore;
  let vendor: { authorization: string };

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    // acme is the demo store's vendor; its token is a vendor token like any other.
    vendor = {
      authorization: `Bearer ${(await createVendorToken(store.db, context(store), 'acme')).token}`,
    };
  });
  afterAll(async () => store?.close());

  const create = (headers: { authorization: string }, url: string) =>
    store.app.inject({ method: 'POST', url: '/v1/admin/webhooks', headers, payload: { url } });

  test('a vendor token cannot add an endpoint on a private address: 400 WEBHOOK_URL_NOT_PUBLIC', async () => {
    for (const url of PRIVATE_URLS) {
      const response = await create(vendor, url);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 400 });
      expect(response.json().error.code).toBe('WEBHOOK_URL_NOT_PUBLIC');
      // The answer names no address the host resolved to, only the rule.
      expect(response.json().error.message).toMatch(/public/);
    }
    const listed = await store.app.inject({ url: '/v1/admin/webhooks', headers: vendor });
    expect(listed.json().endpoints).toEqual([]);
  });

  test('a vendor may add an endpoint on a public address, or on a name that does not resolve yet', async () => {
    // No network in tests: example.com names do not resolve, and delivery checks again.
    for (const url of ['https://93.184.215.14/hooks', 'https://hooks.acme.example.com/in']) {
      expect((await create(vendor, url)).statusCode).toBe(201);
    }
  });

  test("the operator's token may add endpoints anywhere (its own network)", async () => {
    for (const url of PRIVATE_URLS) {
      expect({ url, status: (await create(ADMIN, url)).statusCode }).toEqual({ url, status: 201 });
    }
  });
});

describe.skipIf(postgresUnavailable)(
  'LICENSEKIT_VENDOR_WEBHOOKS_PRIVATE=on (development and tests)',
  () => {
    test('a vendor may add endpoints on private addresses', async () => {
      const store = await buildTestStore({
        operations: {
          webhooks: { enabled: false, vendorPrivateTargets: true },
          jobs: { intervalMs: 0 },
        },
      });
      try {
        const token = (await createVendorToken(store.db, context(store), 'acme')).token;
        const response = await store.app.inject({
          method: 'POST',
          url: '/v1/admin/webhooks',
          headers: { authorization: `Bearer ${token}` },
          payload: { url: 'http://127.0.0.1:9/hook' },
        });
        expect(response.statusCode).toBe(201);
      } finally {
        await store.close();
      }
    });
  },
);

/**
 * Delivery checks again, every time: a name public at creation may resolve to a private
 * address later (DNS rebinding), and endpoints made while the setting was on stay in the
 * table. The worker runs here by hand (runOnce) with a resolver the test controls.
 */
describe.skipIf(postgresUnavailable)('deliveries to vendor endpoints (SSRF)', () => {
  let store: TestStore;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    receiver = await WebhookReceiver.start(store.clock);
  });
  afterAll(async () => {
    await receiver?.close();
    await store?.close();
  });

  /**
   * An endpoint of the operator (vendorId undefined) or of a vendor. A vendor's is checked
   * with `resolve` when given; without it, it is made as while the setting was on.
   */
  function endpoint(url: string, vendorId: string | undefined, resolve?: Resolver) {
    const rules = { vendorPrivateTargets: resolve === undefined, resolve };
    return webhooksService(store.db, store.app.secrets, rules).create(
      { url },
      store.clock.now(),
      vendorId,
    );
  }

  async function clear() {
    await store.db.query('DELETE FROM webhook_outbox');
    await store.db.query('DELETE FROM webhook_endpoints');
  }

  /** One event of acme's product photon, delivered by a worker with this resolver. */
  async function deliver(resolve: Resolver, vendorPrivateTargets = false) {
    const ids = await store.db.transaction((tx) =>
      emitEvent(
        tx,
        'license.created',
        { productId: 'photon', licenseId: 'lic_ssrf' },
        store.clock.now(),
      ),
    );
    const sent: string[] = [];
    const worker = new OutboxWorker({
      db: store.db,
      clock: store.clock,
      secrets: store.app.secrets,
      log: store.app.log,
      settings: { ...store.app.config.operations.webhooks, vendorPrivateTargets },
      resolve,
      fetch: (input, init) => {
        sent.push(String(input));
        return fetch(input, init);
      },
    });
    await worker.runOnce();
    const rows = await store.db.query<{
      endpoint_id: string;
      attempts: number;
      last_error: string | null;
      delivered_at: Date | null;
    }>(
      'SELECT endpoint_id, attempts, last_error, delivered_at FROM webhook_outbox WHERE id = ANY($1)',
      [ids],
    );
    return { rows, sent };
  }

  test('a vendor endpoint whose name now resolves to a private address is not sent to', async () => {
    await clear();
    // Public when the vendor made it …
    const made = await endpoint('https://hooks.rebind.example.com/in', 'acme', async () => [
      '93.184.215.14',
    ]);
    // … and the metadata service's address at delivery.
    const asked: string[] = [];
    const { rows, sent } = await deliver(async (name) => {
      asked.push(name);
      return ['93.184.215.14', '169.254.169.254'];
    });
    expect(asked).toEqual(['hooks.rebind.example.com']);
    expect(sent).toEqual([]);
    expect(rows).toEqual([
      {
        endpoint_id: made.endpoint.id,
        attempts: 1,
        last_error: NOT_PUBLIC_ERROR,
        delivered_at: null,
      },
    ]);
    // What the vendor reads: the rule, not the address nor anything of what listens there.
    const token = (await createVendorToken(store.db, context(store), 'acme')).token;
    const messages = await store.app.inject({
      url: `/v1/admin/webhooks/${made.endpoint.id}/messages`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(messages.json().messages[0]).toMatchObject({
      status: 'pending', // retried later: the name may point back to a public address
      attempts: 1,
      lastError: NOT_PUBLIC_ERROR,
    });
    expect(NOT_PUBLIC_ERROR).not.toMatch(/169\.254|ECONN|HTTP|timed out/);
  });

  test("a vendor endpoint on a private address (made while allowed) is not sent to; the operator's on the same is", async () => {
    await clear();
    const mine = await endpoint(receiver.url, undefined);
    const theirs = await endpoint(receiver.url, 'acme');
    receiver.secret = mine.secret;
    const before = receiver.received.length;
    const { rows } = await deliver(async () => {
      throw new Error('an IP literal is not looked up');
    });
    expect(receiver.received.length - before).toBe(1);
    const byEndpoint = Object.fromEntries(rows.map((row) => [row.endpoint_id, row]));
    expect(byEndpoint[mine.endpoint.id]?.delivered_at).not.toBeNull();
    expect(byEndpoint[theirs.endpoint.id]).toMatchObject({
      last_error: NOT_PUBLIC_ERROR,
      delivered_at: null,
    });
  });

  test('with LICENSEKIT_VENDOR_WEBHOOKS_PRIVATE=on, a vendor endpoint on loopback is sent to', async () => {
    await clear();
    const theirs = await endpoint(receiver.url, 'acme');
    receiver.secret = theirs.secret;
    const before = receiver.received.length;
    const { rows } = await deliver(async () => [], true);
    expect(receiver.received.length - before).toBe(1);
    expect(rows[0]?.delivered_at).not.toBeNull();
  });

  test('an attempt cut off by the time limit says so (whichever way it was sent)', async () => {
    await clear();
    const silent = createServer(() => {}); // takes the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      await endpoint(`http://127.0.0.1:${port}/in`, undefined);
      const ids = await store.db.transaction((tx) =>
        emitEvent(tx, 'license.created', { productId: 'photon' }, store.clock.now()),
      );
      await new OutboxWorker({
        db: store.db,
        clock: store.clock,
        secrets: store.app.secrets,
        log: store.app.log,
        settings: { ...store.app.config.operations.webhooks, timeoutMs: 1 },
      }).runOnce();
      const [row] = await store.db.query<{ last_error: string }>(
        'SELECT last_error FROM webhook_outbox WHERE id = $1',
        [ids[0]],
      );
      expect(row?.last_error).toBe('timed out after 1 ms');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('postPinned', () => {
  test('connects to the address it was given, not to what the name resolves to, keeping the name as Host', async () => {
    const hosts: (string | undefined)[] = [];
    const server = createServer((request, response) => {
      hosts.push(request.headers.host);
      request.resume();
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // No DNS knows this name: only the pinned address can have reached the server.
      const status = await postPinned(
        new URL(`http://hooks.pinned.example:${port}/in`),
        ['127.0.0.1'],
        {
          body: '{}',
          headers: { 'content-type': 'application/json' },
          signal: new AbortController().signal,
        },
      );
      expect(status).toBe(204);
      expect(hosts).toEqual([`hooks.pinned.example:${port}`]);
      // An abort (time limit, shutdown) ends it, as it ends a fetch.
      const abort = new AbortController();
      const held = createServer(() => abort.abort());
      await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
      const heldPort = (held.address() as AddressInfo).port;
      await expect(
        postPinned(new URL(`http://hooks.pinned.example:${heldPort}/in`), ['127.0.0.1'], {
          body: '{}',
          headers: {},
          signal: abort.signal,
        }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      held.closeAllConnections();
      await new Promise((resolve) => held.close(resolve));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
