/**
 * PostgreSQL lost under load. A TCP proxy of this test stands between a real store
 * process and the shared PostgreSQL server, so the test can cut the store's database —
 * refused (a server down: connections reset, new ones refused), black-holed (a network
 * partition: packets go nowhere, nothing answers) or terminated by the server (57P01, as
 * a restart or a failover does) — without touching the server other tests use. Meanwhile
 * every request must be answered, never with a 500 and never later than the store's
 * request timeout: 503 DATABASE_UNAVAILABLE while the database is gone (a page answers
 * its 503 page), `/health` 503. When the database comes back the same process serves
 * again, and nothing answered before or during the outage is lost: a checkout refused
 * with 503 is retried with its Idempotency-Key and makes exactly one order.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgres } from '../../packages/store/src/db/client.js';
import {
  createScratchDatabase,
  type ScratchDatabase,
} from '../../packages/store/src/db/scratch.js';
import {
  type Answer,
  type DeviceKey,
  deviceKey,
  StoreClient,
  type TokenFormat,
} from './support/store-client.js';
import {
  killStoreProcesses,
  postgresAdminUrl,
  postgresUnavailable,
  type StoreProcess,
  startStoreProcess,
} from './support/store-process.js';

const ADMIN_TOKEN = 'faults-database-admin-token';
/** The store's request timeout here: no answer may take longer. */
const REQUEST_TIMEOUT_MS = 5_000;
/** How long the store waits for PostgreSQL to connect or answer (LICENSEKIT_DATABASE_TIMEOUT_MS). */
const DATABASE_TIMEOUT_MS = 1_000;

/** The pace of the request rounds during an outage. */
const ROUND_MS = 150;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

type LinkState = 'open' | 'refused' | 'blackhole';

/**
 * A TCP proxy to PostgreSQL that the test can cut: `refused` resets every connection and
 * stops listening (ECONNREFUSED, a server that is down); `blackhole` keeps connections
 * open and accepts new ones but forwards nothing (a partition: only timeouts notice).
 */
class DatabaseLink {
  private state: LinkState = 'open';
  private readonly pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();
  private readonly server: Server;
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  static async open(target: { host: string; port: number }): Promise<DatabaseLink> {
    const link = new DatabaseLink(target);
    await link.listen(0);
    return link;
  }

  /** `databaseUrl` through this link. */
  through(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
  }

  private accept(client: Socket) {
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      this.pairs.delete(pair);
      pair.upstream?.destroy();
    });
    // Accepted and never answered: the client waits for a server that says nothing.
    if (this.state === 'blackhole') return;
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  }

  async cut(state: Exclude<LinkState, 'open'>): Promise<void> {
    this.state = state;
    if (state === 'refused') {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const { client, upstream } of this.pairs) {
        upstream?.resetAndDestroy();
        client.resetAndDestroy();
      }
      await closed;
      return;
    }
    // Stop forwarding and stop reading: what the store sends now goes nowhere.
    for (const { client, upstream } of this.pairs) {
      if (!upstream) continue;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async restore(): Promise<void> {
    const previous = this.state;
    this.state = 'open';
    // A black-holed connection is beyond repair (its requests were given up); a real
    // partition ends the same way, with the peers' sockets timing out.
    if (previous === 'blackhole') {
      for (const { client, upstream } of this.pairs) {
        upstream?.destroy();
        client.destroy();
      }
    }
    if (previous === 'refused') await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      upstream?.destroy();
      client.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Purchase {
  key: string;
  licenseId: string;
  orderId: string;
  token: string;
  device: DeviceKey;
  boundToken: string;
}

/** What one request of the mix answered, and how long it took. */
interface Observation {
  what: string;
  answer: Answer | undefined;
}

/**
 * Every kind of request the store serves, once: license API (key, proof, token), checkout,
 * plan preview, catalogue, admin API, a page, health and metrics. A checkout answered 503
 * is remembered to be retried with its key after the outage.
 */
async function requestMix(
  client: StoreClient,
  purchase: Purchase,
  refusedCheckouts: { key: string; email: string }[],
  acknowledgedOrders: Set<string>,
): Promise<Observation[]> {
  const format: TokenFormat = 'jwt';
  const email = `outage-${randomUUID()}@example.com`;
  const idempotencyKey = randomUUID();
  const checkout = client
    .checkout({ productId: 'photon', planId: 'pro-monthly', email, format }, idempotencyKey)
    .then((answer) => {
      if (answer?.status === 201) acknowledgedOrders.add(answer.body.order.id);
      else refusedCheckouts.push({ key: idempotencyKey, email });
      return answer;
    });
  const requests: [string, Promise<Answer | undefined>][] = [
    ['POST /v1/checkout', checkout],
    ['GET /v1/licenses/status', client.status(purchase.key)],
    ['POST /v1/licenses/refresh (key)', client.refreshWithKey(purchase.key, format)],
    [
      'POST /v1/licenses/refresh (bound token)',
      client.refreshWithToken(purchase.boundToken, purchase.device, format),
    ],
    [
      'POST /v1/licenses/activate',
      deviceKey().then((d) => client.activate(purchase.key, d, format)),
    ],
    [
      'POST /v1/licenses/plan (preview)',
      client.send('POST', '/v1/licenses/plan', {
        body: { planId: 'team-yearly', confirm: false },
        headers: { authorization: `Bearer ${purchase.key}` },
      }),
    ],
    [
      'GET /v1/licenses/token',
      client.send('GET', '/v1/licenses/token', {
        headers: { authorization: `Bearer ${purchase.key}` },
      }),
    ],
    ['GET /v1/products', client.send('GET', '/v1/products')],
    ['GET /v1/admin/orders', client.admin('GET', '/v1/admin/orders?limit=5')],
    ['GET /v1/admin/licenses/:id', client.admin('GET', `/v1/admin/licenses/${purchase.licenseId}`)],
    ['GET / (page)', client.send('GET', '/', { headers: { accept: 'text/html' } })],
    ['GET /health', client.send('GET', '/health')],
  ];
  return Promise.all(requests.map(async ([what, pending]) => ({ what, answer: await pending })));
}

/** Answers the store may give with its database up. */
function healthy(observation: Observation): boolean {
  const { what, answer } = observation;
  if (!answer) return false;
  // Seats fill up as the mix activates a device each round.
  if (what === 'POST /v1/licenses/activate') return answer.status === 200 || answer.status === 409;
  return answer.status >= 200 && answer.status < 300;
}

/** With the database gone: 503 with the registered code and Retry-After (a page: its 503 page). */
function refused(observation: Observation): boolean {
  const { what, answer } = observation;
  if (answer?.status !== 503) return false;
  if (what === 'GET /health') return answer.body.status === 'unavailable';
  if (what === 'GET / (page)') return String(answer.body).includes('<html');
  return (
    answer.body?.error?.code === 'DATABASE_UNAVAILABLE' && answer.headers.get('retry-after') === '5'
  );
}

describe.skipIf(postgresUnavailable)('PostgreSQL lost under load', () => {
  let root: string;
  let scratch: ScratchDatabase;
  let link: DatabaseLink;
  let store: StoreProcess;
  let client: StoreClient;
  let purchase: Purchase;
  const refusedCheckouts: { key: string; email: string }[] = [];
  const acknowledgedOrders = new Set<string>();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'licensekit-faults-db-'));
    scratch = await createScratchDatabase(postgresAdminUrl ?? '', 'lk_faults_db');
    const target = new URL(scratch.url);
    link = await DatabaseLink.open({ host: target.hostname, port: Number(target.port || 5432) });
    store = await startStoreProcess({
      dataDir: join(root, 'data'),
      adminToken: ADMIN_TOKEN,
      databaseUrl: link.through(scratch.url),
      env: {
        LICENSEKIT_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        LICENSEKIT_DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS),
        // The workers keep polling through the outage: they must survive it too.
        LICENSEKIT_WEBHOOK_POLL_MS: '100',
        LICENSEKIT_BILLING_INTERVAL_MS: '200',
      },
    });
    client = new StoreClient(store.url, ADMIN_TOKEN);
    purchase = await buy(client);
  });

  afterAll(async () => {
    await killStoreProcesses();
    await link?.close();
    await scratch?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function buy(through: StoreClient): Promise<Purchase> {
    const bought = await through.checkout({
      productId: 'photon',
      planId: 'pro-monthly',
      email: `outage-${randomUUID()}@example.com`,
      format: 'jwt',
    });
    expect(bought?.status).toBe(201);
    const device = await deviceKey();
    const activated = await through.activate(bought?.body.license.key, device, 'jwt');
    expect(activated?.status).toBe(200);
    acknowledgedOrders.add(bought?.body.order.id);
    return {
      key: bought?.body.license.key,
      licenseId: bought?.body.license.id,
      orderId: bought?.body.order.id,
      token: bought?.body.license.token,
      device,
      boundToken: activated?.body.token,
    };
  }

  /**
   * The mix in rounds while `cut` takes the database away and `restore` gives it back;
   * returns every observation with the state of the link when the request was sent.
   */
  async function outage(
    cut: () => Promise<void>,
    restore: () => Promise<void>,
  ): Promise<{ during: Observation[]; after: Observation[]; recoveredInMs: number }> {
    const during: Observation[] = [];
    const before = await requestMix(client, purchase, refusedCheckouts, acknowledgedOrders);
    expect(before.filter((o) => !healthy(o)).map(describeObservation)).toEqual([]);

    await cut();
    const cutAt = performance.now();
    // Rounds of three mixes at once (36 requests: they queue for pool slots as under
    // load), at most one every ROUND_MS so a fast refusal does not become a flood.
    while (performance.now() - cutAt < 2 * DATABASE_TIMEOUT_MS + 500) {
      const roundAt = performance.now();
      const rounds = await Promise.all(
        [0, 1, 2].map(() => requestMix(client, purchase, refusedCheckouts, acknowledgedOrders)),
      );
      during.push(...rounds.flat());
      await sleep(ROUND_MS - (performance.now() - roundAt));
    }
    expect(store.alive(), `the store survived the outage\n${store.log()}`).toBe(true);

    await restore();
    const restoredAt = performance.now();
    // Back without a restart: the same process answers /health 200 again, soon.
    let health: Answer | undefined;
    do {
      health = await client.send('GET', '/health');
      if (health?.status !== 200) await sleep(100);
    } while (health?.status !== 200 && performance.now() - restoredAt < 15_000);
    expect(health?.status, `health after the database came back\n${store.log()}`).toBe(200);
    const recoveredInMs = performance.now() - restoredAt;
    const after = await requestMix(client, purchase, refusedCheckouts, acknowledgedOrders);
    return { during, after, recoveredInMs };
  }

  function describeObservation({ what, answer }: Observation): string {
    if (!answer) return `${what}: no answer`;
    const body =
      typeof answer.body === 'string' ? answer.body.slice(0, 120) : JSON.stringify(answer.body);
    return `${what}: ${answer.status} in ${Math.round(answer.ms)} ms ${body}`;
  }

  function expectOutageAnswers(result: Awaited<ReturnType<typeof outage>>, label: string) {
    const { during, after, recoveredInMs } = result;
    // Never a 500, never unanswered, never past the request timeout.
    const wrong = during.filter((o) => !refused(o) && !healthy(o));
    expect(wrong.map(describeObservation), `${label}: answers while cut`).toEqual([]);
    const slowest = Math.max(...during.map((o) => o.answer?.ms ?? Number.POSITIVE_INFINITY));
    expect(slowest, `${label}: slowest answer`).toBeLessThan(REQUEST_TIMEOUT_MS);
    // The outage was seen: every route that needs the database answered 503 at least once.
    const seen = new Set(during.filter(refused).map((o) => o.what));
    const routes = new Set(during.map((o) => o.what));
    for (const route of routes) expect(seen, `${label}: ${route} answered 503`).toContain(route);
    expect(after.filter((o) => !healthy(o)).map(describeObservation), `${label}: after`).toEqual(
      [],
    );
    console.info(
      `faults-database ${label}: ${during.length} requests while cut (${during.filter(refused).length} × 503, slowest ${Math.round(slowest)} ms), recovered ${Math.round(recoveredInMs)} ms after the database came back, pid ${store.pid} throughout`,
    );
  }

  test('refused: 503 DATABASE_UNAVAILABLE at once, /health down, back without a restart', async () => {
    const result = await outage(
      () => link.cut('refused'),
      () => link.restore(),
    );
    expectOutageAnswers(result, 'refused');
  });

  test('terminated by the server (57P01): 503 or served, never a 500, then served', async () => {
    // What a restart or failover does to the store's connections; only this test's
    // database is touched, through an admin connection of the test.
    const admin = await openPostgres({ connectionString: postgresAdminUrl ?? '', max: 1 });
    const name = new URL(scratch.url).pathname.slice(1);
    const terminate = () =>
      admin.query(
        // Client backends only: an autovacuum worker in the database is a superuser's
        // process, which this role may not terminate (seen once: the query failed).
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        [name],
      );
    try {
      const observations: Observation[] = [];
      for (let round = 0; round < 5; round++) {
        const mixes = [0, 1, 2].map(() =>
          requestMix(client, purchase, refusedCheckouts, acknowledgedOrders),
        );
        await sleep(5 + round * 7);
        await terminate();
        observations.push(...(await Promise.all(mixes)).flat());
      }
      // Idle connections died too: the next requests find the pool repaired.
      await terminate();
      await sleep(100);
      const after = await requestMix(client, purchase, refusedCheckouts, acknowledgedOrders);
      expect(store.alive(), `the store survived\n${store.log()}`).toBe(true);
      const wrong = observations.filter((o) => !refused(o) && !healthy(o));
      expect(wrong.map(describeObservation)).toEqual([]);
      expect(after.filter((o) => !healthy(o)).map(describeObservation)).toEqual([]);
      console.info(
        `faults-database terminated: ${observations.length} requests across 6 terminations, ${observations.filter(refused).length} × 503, none failed otherwise`,
      );
    } finally {
      await admin.close();
    }
  });

  test('black-holed: answered within the database timeout, never a hang; then served', async () => {
    const result = await outage(
      () => link.cut('blackhole'),
      () => link.restore(),
    );
    expectOutageAnswers(result, 'black-holed');
  });

  test('nothing was lost: acknowledged orders are there, refused checkouts retry into one order', async () => {
    for (const { key, email } of refusedCheckouts) {
      const answer = await client.checkout(
        { productId: 'photon', planId: 'pro-monthly', email, format: 'jwt' },
        key,
      );
      expect(answer?.status, `retry of a refused checkout`).toBe(201);
      acknowledgedOrders.add(answer?.body.order.id);
    }
    const orders = await client.adminOrders();
    const ids = new Set(orders.map((order) => order.id));
    for (const id of acknowledgedOrders) expect(ids, `order ${id}`).toContain(id);
    const perEmail = new Map<string, number>();
    for (const order of orders.filter((o) => o.kind === 'purchase'))
      perEmail.set(order.customerEmail, (perEmail.get(order.customerEmail) ?? 0) + 1);
    expect([...perEmail].filter(([, count]) => count !== 1)).toEqual([]);
    expect(orders.filter((order) => order.status !== 'paid')).toEqual([]);
    expect((await client.status(purchase.key))?.status).toBe(200);
    expect(refusedCheckouts.length).toBeGreaterThan(0);
    console.info(
      `faults-database: ${refusedCheckouts.length} checkouts refused during outages and retried, ${acknowledgedOrders.size} orders in all`,
    );
  });
});
