/**
 * The webhook outbox after a kill and past a receiver that is down. A real store process
 * delivers `license.created` of a checkout load to a receiver of this test; the store is
 * SIGKILLed while a delivery is in flight (the receiver holds its answer until the store
 * is dead), restarted on the same data, and the receiver then answers 503 for a while and
 * then refuses connections for a while. Once it is back every event must have arrived:
 * at least once, always under the same `webhook-id` with the same signed body, so a
 * receiver deduplicating on `webhook-id` sees each event exactly once.
 *
 * The store runs with a short retry schedule and claim (buildStore's `operations`, which
 * no CLI flag sets: see store-process.ts); the defaults are in the README's table.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createScratchDatabase,
  type ScratchDatabase,
} from '../../packages/store/src/db/scratch.js';
import { type CheckoutBody, inBatches, StoreClient } from './support/store-client.js';
import {
  killStoreProcesses,
  postgresAdminUrl,
  postgresUnavailable,
  type StoreProcess,
  type StoreProcessOptions,
  startStoreProcess,
} from './support/store-process.js';

const ADMIN_TOKEN = 'faults-webhooks-admin-token';
/** Short enough for a test, long enough to retry through the receiver's outage. */
const OPERATIONS = {
  webhooks: {
    pollIntervalMs: 100,
    retryScheduleMs: [200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000],
    retryJitter: 0,
    timeoutMs: 1_000,
    // A killed store's claims lapse after this: the message in flight is sent again.
    lockMs: 1_500,
  },
};
/** The delivery that is in flight when the store is killed. */
const KILL_AT_DELIVERY = 4;

const root = mkdtempSync(join(tmpdir(), 'licensekit-faults-webhooks-'));
afterAll(async () => {
  await killStoreProcesses();
  rmSync(root, { recursive: true, force: true });
});

interface Delivery {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What the receiver answered: a status, or that the store was killed meanwhile. */
  answered: number | 'killed';
}

type ReceiverState = 'up' | 'failing' | 'refusing';

/**
 * The vendor's endpoint: records every request, answers 200 when up, 503 when failing,
 * and when refusing is not listening at all. `beforeAnswer` may hold an answer back.
 */
class Receiver {
  state: ReceiverState = 'up';
  readonly deliveries: Delivery[] = [];
  beforeAnswer: ((delivery: Delivery) => Promise<number | 'killed' | undefined>) | undefined;
  private readonly server: Server;
  port = 0;

  constructor() {
    this.server = createServer((request, response) => void this.receive(request, response));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(this.port, '127.0.0.1', () => {
        const address = this.server.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      }),
    );
  }

  async refuse(): Promise<void> {
    this.state = 'refusing';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  async back(): Promise<void> {
    if (this.state === 'refusing') await this.listen();
    this.state = 'up';
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * What a receiver that deduplicates on webhook-id processed: each delivery it took in
   * (answered 200, or whose answer the kill cut off), once per id.
   */
  processed(): { ids: Set<string>; duplicates: number } {
    const taken = this.deliveries.filter((d) => d.answered === 200 || d.answered === 'killed');
    const ids = new Set(taken.map((delivery) => delivery.id));
    return { ids, duplicates: taken.length - ids.size };
  }

  private async receive(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const delivery: Delivery = {
      id: String(request.headers['webhook-id']),
      timestamp: String(request.headers['webhook-timestamp']),
      signature: String(request.headers['webhook-signature']),
      body: Buffer.concat(chunks).toString('utf8'),
      answered: this.state === 'failing' ? 503 : 200,
    };
    this.deliveries.push(delivery);
    delivery.answered = (await this.beforeAnswer?.(delivery)) ?? delivery.answered;
    if (delivery.answered === 'killed') {
      response.destroy();
      return;
    }
    response.writeHead(delivery.answered).end();
  }
}

/** The README's verification: HMAC-SHA256 over "id.timestamp.body" with the secret's bytes. */
function signedBy(secret: string, delivery: Delivery): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${delivery.id}.${delivery.timestamp}.${delivery.body}`)
    .digest();
  return delivery.signature.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checkouts `count` licenses; those the store acknowledged, and those left in doubt. */
async function checkouts(client: StoreClient, count: number) {
  const acknowledged: string[] = [];
  const inDoubt: { key: string; body: CheckoutBody }[] = [];
  const bodies = Array.from({ length: count }, () => ({
    productId: 'photon',
    planId: 'pro-monthly',
    email: `hooks-${randomUUID()}@example.com`,
  }));
  await inBatches(bodies, 3, async (body) => {
    const key = randomUUID();
    const answer = await client.checkout(body, key);
    if (answer?.status === 201) acknowledged.push(answer.body.license.id);
    else if (answer) throw new Error(`checkout answered ${answer.status}`);
    else inDoubt.push({ key, body });
  });
  return { acknowledged, inDoubt };
}

async function outboxSurvives(
  name: string,
  options: Omit<StoreProcessOptions, 'adminToken'>,
  operations = OPERATIONS,
) {
  const started = performance.now();
  const receiver = new Receiver();
  await receiver.listen();
  const start = () => startStoreProcess({ ...options, adminToken: ADMIN_TOKEN, operations });
  try {
    let store: StoreProcess = await start();
    let client = new StoreClient(store.url, ADMIN_TOKEN);
    const created = await client.admin('POST', '/v1/admin/webhooks', {
      url: receiver.url,
      events: ['license.created'],
    });
    expect(created?.status).toBe(201);
    const endpointId = created?.body.endpoint.id as string;
    const secret = created?.body.secret as string;
    const licenses: string[] = [];

    // 1. Killed with a delivery in flight: the receiver has the request, the store never
    //    hears the answer.
    let killed: Promise<unknown> | undefined;
    receiver.beforeAnswer = async (delivery) => {
      if (receiver.deliveries.length !== KILL_AT_DELIVERY || killed) return undefined;
      killed = store.kill();
      await killed;
      return delivery.answered === 200 ? 'killed' : undefined;
    };
    const first = await checkouts(client, 12);
    licenses.push(...first.acknowledged);
    // The load may end before the fourth delivery: the kill still comes mid-delivery.
    while (!killed) await sleep(20);
    await killed;
    receiver.beforeAnswer = undefined;
    store = await start();
    client = new StoreClient(store.url, ADMIN_TOKEN);
    for (const { key, body } of first.inDoubt) {
      const answer = await client.checkout(body, key);
      expect(answer?.status, 'a checkout retried after the kill').toBe(201);
      licenses.push(answer?.body.license.id);
    }

    // 2. The receiver fails (503), then is not there at all, while licenses are sold and
    //    the store is killed once more; then it comes back.
    receiver.state = 'failing';
    licenses.push(...(await checkouts(client, 6)).acknowledged);
    await sleep(700);
    await receiver.refuse();
    licenses.push(...(await checkouts(client, 6)).acknowledged);
    await store.kill();
    store = await start();
    client = new StoreClient(store.url, ADMIN_TOKEN);
    licenses.push(...(await checkouts(client, 4)).acknowledged);
    await sleep(700);
    const downFor = receiver.deliveries.length;
    await receiver.back();

    // 3. Everything arrives: the outbox drains with nothing given up.
    let endpoint: { pending: number; delivered: number; failed: number } | undefined;
    const deadline = performance.now() + 20_000;
    do {
      await sleep(200);
      endpoint = (await client.admin('GET', `/v1/admin/webhooks/${endpointId}`))?.body;
    } while (
      (endpoint?.pending !== 0 || (endpoint?.delivered ?? 0) < licenses.length) &&
      performance.now() < deadline
    );
    expect(endpoint?.failed, 'messages given up').toBe(0);
    expect(endpoint?.pending, 'messages still pending').toBe(0);

    const messages = (
      await client.admin('GET', `/v1/admin/webhooks/${endpointId}/messages?limit=200`)
    )?.body.messages as { id: string; status: string; attempts: number }[];
    const ids = new Set(messages.map((message) => message.id));
    expect(ids.size, 'one webhook-id per message').toBe(messages.length);
    expect(messages.filter((message) => message.status !== 'delivered')).toEqual([]);

    // Every license acknowledged has its event, under one id.
    const bodies = new Map<string, string>();
    for (const delivery of receiver.deliveries) {
      expect(signedBy(secret, delivery), `signature of ${delivery.id}`).toBe(true);
      // A retry is the same message: the same id carries the same bytes.
      expect(bodies.get(delivery.id) ?? delivery.body, `body of ${delivery.id}`).toBe(
        delivery.body,
      );
      bodies.set(delivery.id, delivery.body);
    }
    const eventOf = new Map<string, string>();
    for (const [id, body] of bodies) {
      const event = JSON.parse(body) as { type: string; data: { licenseId: string } };
      expect(event.type).toBe('license.created');
      expect(
        eventOf.get(event.data.licenseId),
        `one id for ${event.data.licenseId}`,
      ).toBeUndefined();
      eventOf.set(event.data.licenseId, id);
    }
    for (const license of licenses) expect(eventOf.has(license), `event of ${license}`).toBe(true);
    // The deduplicating receiver processed every message exactly once — and had to drop
    // a repeat: the delivery the kill cut off came again under its id.
    const processed = receiver.processed();
    expect([...processed.ids].sort()).toEqual([...ids].sort());
    expect(processed.duplicates, 'repeats the deduplication dropped').toBeGreaterThan(0);
    const failed = receiver.deliveries.filter((d) => d.answered === 503).length;
    expect(failed, 'attempts answered 503').toBeGreaterThan(0);
    console.info(
      `faults-webhooks ${name}: ${licenses.length} licenses, ${messages.length} messages, ${receiver.deliveries.length} deliveries (${failed} answered 503, ${processed.duplicates} repeats dropped by webhook-id, ${downFor} received before the receiver came back), 2 kills, ${Math.round(performance.now() - started)} ms`,
    );
    await store.stop();
  } finally {
    await killStoreProcesses();
    await receiver.close();
  }
}

describe('webhooks survive a killed store and a receiver that is down', () => {
  test('PGlite', async () => {
    // A claim that would hold for a minute: the restarted store owns its PGlite directory
    // alone, so it takes the dead store's claims back at start instead of waiting.
    await outboxSurvives(
      'PGlite',
      { dataDir: join(root, 'pglite') },
      { webhooks: { ...OPERATIONS.webhooks, lockMs: 60_000 } },
    );
  });

  test.skipIf(postgresUnavailable)('PostgreSQL', async () => {
    let scratch: ScratchDatabase | undefined;
    try {
      scratch = await createScratchDatabase(postgresAdminUrl ?? '', 'lk_faults_hooks');
      await outboxSurvives('PostgreSQL', {
        dataDir: join(root, 'postgres'),
        databaseUrl: scratch.url,
      });
    } finally {
      await killStoreProcesses();
      await scratch?.drop();
    }
  });
});
