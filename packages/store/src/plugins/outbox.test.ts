import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, test } from 'vitest';
import type { OperationsInput } from '../config-operations.js';
import type { Db } from '../db/client.js';
import { openPostgres } from '../db/client.js';
import type { EventType } from '../services/events.js';
import { emitEvent } from '../services/events.js';
import { claimDue } from '../services/outbox.js';
import { ADMIN, eventually, LiveClock, WebhookReceiver } from '../testing/fixtures.js';
import type { TestDatabase, TestStore } from '../testing/harness.js';
import {
  buildTestStore,
  openTestDatabase,
  postgresUnavailable,
  testDatabaseKind,
} from '../testing/harness.js';

const FAST: OperationsInput = {
  webhooks: { pollIntervalMs: 25, retryScheduleMs: [150, 300], retryJitter: 0 },
  jobs: { intervalMs: 0 },
};

async function emit(app: FastifyInstance, type: EventType, data: Record<string, unknown>) {
  const ids = await app.db.transaction((tx) => emitEvent(tx, type, data, app.clock.now()));
  app.outbox.wake();
  return ids;
}

async function addEndpoint(app: FastifyInstance, receiver: WebhookReceiver, events?: EventType[]) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/admin/webhooks',
    headers: ADMIN,
    payload: events ? { url: receiver.url, events } : { url: receiver.url },
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { endpoint: { id: string }; secret: string };
}

async function outboxRow(db: Db, id: string) {
  const [row] = await db.query<{
    attempts: number;
    delivered_at: Date | null;
    failed_at: Date | null;
    last_error: string | null;
    locked_until: Date | null;
  }>(
    'SELECT attempts, delivered_at, failed_at, last_error, locked_until FROM webhook_outbox WHERE id = $1',
    [id],
  );
  return row!;
}

describe.skipIf(postgresUnavailable)('webhook outbox delivery', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function store(options: Parameters<typeof buildTestStore>[0] = {}): Promise<TestStore> {
    const built = await buildTestStore({
      clock: new LiveClock(),
      operations: FAST,
      licensing: { billing: { enabled: false } },
      ...options,
    });
    cleanups.push(() => built.close());
    return built;
  }

  async function receiver(clock: { now(): Date }) {
    const started = await WebhookReceiver.start(clock);
    cleanups.push(() => started.close());
    return started;
  }

  test('delivers signed events that an independent verifier accepts', async () => {
    const { app, db, clock } = await store();
    const hooks = await receiver(clock);
    const { endpoint, secret } = await addEndpoint(app, hooks, ['license.created']);
    expect(secret).toMatch(/^whsec_/);
    hooks.secret = secret;
    // The secret is stored encrypted, never as is.
    const [stored] = await db.query<{ secret: string }>(
      'SELECT secret FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    expect(stored!.secret).not.toContain(secret.slice(6));

    expect(await emit(app, 'quota.low', { licenseId: 'lic_x' })).toEqual([]); // not subscribed
    const [id] = await emit(app, 'license.created', { licenseId: 'lic_1', planId: 'pro-monthly' });
    const [delivery] = await hooks.waitFor((r) => r.length === 1);
    expect(delivery).toMatchObject({ id, verified: true, status: 204 });
    expect(delivery!.headers['content-type']).toBe('application/json');
    // The store's (live) clock at delivery: a second may have ticked by since, on a busy machine.
    const nowSeconds = Math.floor(clock.now().getTime() / 1000);
    expect(delivery!.timestamp).toBeLessThanOrEqual(nowSeconds);
    expect(delivery!.timestamp).toBeGreaterThanOrEqual(nowSeconds - 5);
    const body = JSON.parse(delivery!.body);
    expect(body).toMatchObject({
      type: 'license.created',
      data: { licenseId: 'lic_1', planId: 'pro-monthly' },
    });
    expect(new Date(body.timestamp).getTime()).toBeLessThanOrEqual(clock.now().getTime());
    const row = await eventually(async () => {
      const current = await outboxRow(db, id!);
      return current.delivered_at ? current : undefined;
    });
    expect(row).toMatchObject({
      attempts: 1,
      failed_at: null,
      last_error: null,
      locked_until: null,
    });

    const messages = await app.inject({
      url: `/v1/admin/webhooks/${endpoint.id}/messages`,
      headers: ADMIN,
    });
    expect(messages.json().messages[0]).toMatchObject({ id, status: 'delivered', attempts: 1 });
  });

  test('a receiver with another secret refuses every attempt; the store gives up after the schedule', async () => {
    const { app, db, clock } = await store();
    const hooks = await receiver(clock); // keeps its own random secret: signatures do not match
    await addEndpoint(app, hooks);
    const [id] = await emit(app, 'license.cancelled', { licenseId: 'lic_2' });
    await hooks.waitFor((r) => r.length === 3);
    expect(hooks.received.every((r) => !r.verified && r.status === 401)).toBe(true);
    const row = await eventually(async () => {
      const current = await outboxRow(db, id!);
      return current.failed_at ? current : undefined;
    });
    expect(row).toMatchObject({ attempts: 3, delivered_at: null, last_error: 'HTTP 401' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hooks.received).toHaveLength(3); // given up: no fourth attempt
  });

  test('retries after 500s with growing delays, keeping the message id', async () => {
    const { app, db, clock } = await store();
    const hooks = await receiver(clock);
    hooks.secret = (await addEndpoint(app, hooks)).secret;
    let calls = 0;
    hooks.respond = () => (++calls <= 2 ? 500 : 200);
    const [id] = await emit(app, 'license.renewed', { licenseId: 'lic_3' });
    const received = await hooks.waitFor((r) => r.length === 3);
    expect(received.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(received.map((r) => r.id))).toEqual(new Set([id]));
    expect(received.every((r) => r.verified)).toBe(true);
    // Backoff: 150 ms, then 300 ms (timer granularity and polling only add to it).
    expect(received[1]!.receivedAt - received[0]!.receivedAt).toBeGreaterThanOrEqual(140);
    expect(received[2]!.receivedAt - received[1]!.receivedAt).toBeGreaterThanOrEqual(290);
    const row = await eventually(async () => {
      const current = await outboxRow(db, id!);
      return current.delivered_at ? current : undefined;
    });
    expect(row).toMatchObject({ attempts: 3, last_error: null, failed_at: null });
  });

  test('survives a restart: messages written by one store are delivered by the next', async () => {
    const database = await openTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-outbox-'));
    cleanups.push(async () => {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const clock = new LiveClock();
    const first = await buildTestStore({
      database,
      dataDir,
      clock,
      operations: { ...FAST, webhooks: { ...FAST.webhooks, enabled: false } },
      licensing: { billing: { enabled: false } },
    });
    const hooks = await receiver(clock);
    hooks.secret = (await addEndpoint(first.app, hooks)).secret;
    // A crash in the middle of a delivery: the message is claimed, the POST never made.
    const [claimed] = await emit(first.app, 'license.created', { licenseId: 'lic_5' });
    const [lock] = await claimDue(first.db, clock.now(), 10, 30_000);
    expect(lock?.id).toBe(claimed);
    const [pending] = await emit(first.app, 'license.created', { licenseId: 'lic_4' });
    await first.close();
    expect(hooks.received).toHaveLength(0);

    const second = await buildTestStore({
      database,
      dataDir,
      clock,
      operations: FAST,
      licensing: { billing: { enabled: false } },
    });
    cleanups.push(() => second.close());
    await hooks.waitFor((r) => r.some((d) => d.id === pending));
    // The receiver has the POST; the store marks it delivered once the answer is back.
    await eventually(async () => (await outboxRow(second.db, pending!)).delivered_at);
    // The crashed instance's claim holds for its 30 s, then the message goes out.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hooks.received.map((r) => r.id)).toEqual([pending]);
    clock.advance(31_000);
    second.app.outbox.wake();
    await hooks.waitFor((r) => r.some((d) => d.id === claimed));
    expect(hooks.received.every((r) => r.verified)).toBe(true);
    const delivered = await eventually(async () => {
      const row = await outboxRow(second.db, claimed!);
      return row.delivered_at ? row : undefined;
    });
    expect(delivered).toMatchObject({ attempts: 2 });
  });

  test('two instances on one database deliver every message exactly once', async () => {
    const database: TestDatabase = await openTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-outbox-'));
    cleanups.push(async () => {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    // PostgreSQL: a second connection pool, like a second server. PGlite is one process'
    // database, so the two instances share its handle.
    const secondDb =
      testDatabaseKind === 'postgres'
        ? await openPostgres({ connectionString: database.url! })
        : database.db;
    const secondDatabase: TestDatabase = {
      db: secondDb,
      drop: async () => {
        if (secondDb !== database.db) await secondDb.close();
      },
    };
    const clock = new LiveClock();
    const settings: OperationsInput = {
      ...FAST,
      webhooks: { ...FAST.webhooks, pollIntervalMs: 10, batchSize: 4 },
    };
    const one = await buildTestStore({
      database,
      dataDir,
      clock,
      operations: { ...settings, webhooks: { ...settings.webhooks, enabled: false } },
      licensing: { billing: { enabled: false } },
    });
    cleanups.push(() => one.close());
    const hooks = await receiver(clock);
    hooks.secret = (await addEndpoint(one.app, hooks)).secret;
    hooks.delayMs = 15;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(...(await emit(one.app, 'license.renewed', { i })));

    const workers = [
      await buildTestStore({
        database,
        dataDir,
        clock,
        operations: settings,
        licensing: { billing: { enabled: false } },
      }),
      await buildTestStore({
        database: secondDatabase,
        dataDir,
        clock,
        operations: settings,
        licensing: { billing: { enabled: false } },
      }),
    ];
    cleanups.push(async () => {
      for (const worker of workers) await worker.close();
      await secondDatabase.drop();
    });
    await hooks.waitFor((r) => new Set(r.map((d) => d.id)).size === ids.length, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hooks.received).toHaveLength(ids.length);
    expect(new Set(hooks.received.map((d) => d.id))).toEqual(new Set(ids));
    const perInstance = workers.map((w) =>
      Number(/result="delivered"} (\d+)/.exec(w.app.metrics.webhookDeliveries.render())?.[1] ?? 0),
    );
    expect(perInstance[0]! + perInstance[1]!).toBe(ids.length);
    expect(perInstance.every((n) => n > 0)).toBe(true);
    const [counts] = await one.db.query<{ delivered: number; attempts: number }>(
      `SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL)::int AS delivered,
              max(attempts)::int AS attempts FROM webhook_outbox`,
    );
    expect(counts).toEqual({ delivered: ids.length, attempts: 1 });
  });

  test('claims racing on two connections never overlap', async () => {
    const database = await openTestDatabase();
    cleanups.push(() => database.drop());
    const secondDb =
      testDatabaseKind === 'postgres'
        ? await openPostgres({ connectionString: database.url! })
        : database.db;
    if (secondDb !== database.db) cleanups.push(() => secondDb.close());
    const clock = new LiveClock();
    const { app } = await store({
      database,
      operations: { ...FAST, webhooks: { ...FAST.webhooks, enabled: false } },
    });
    const hooks = await receiver(clock);
    await addEndpoint(app, hooks);
    for (let i = 0; i < 40; i++) await emit(app, 'license.renewed', { i });
    const seen = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const [a, b] = await Promise.all([
        claimDue(database.db, clock.now(), 7, 60_000),
        claimDue(secondDb, clock.now(), 7, 60_000),
      ]);
      for (const message of [...a, ...b]) {
        expect(seen.has(message.id)).toBe(false);
        seen.add(message.id);
      }
    }
    expect(seen.size).toBe(40);
  });

  test('deleting an endpoint drops its undelivered messages', async () => {
    const { app, db, clock } = await store({
      operations: { ...FAST, webhooks: { ...FAST.webhooks, enabled: false } },
    });
    const hooks = await receiver(clock);
    const { endpoint } = await addEndpoint(app, hooks);
    await emit(app, 'license.created', { licenseId: 'lic_6' });
    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/admin/webhooks/${endpoint.id}`,
      headers: ADMIN,
    });
    expect(removed.json()).toEqual({ deleted: true });
    expect(await db.query('SELECT id FROM webhook_outbox')).toEqual([]);
    const again = await app.inject({
      method: 'DELETE',
      url: `/v1/admin/webhooks/${endpoint.id}`,
      headers: ADMIN,
    });
    expect(again.json().error.code).toBe('WEBHOOK_ENDPOINT_NOT_FOUND');
  });

  test('endpoint input is checked: bad URLs, unknown events, extra members', async () => {
    const { app } = await store();
    const post = (payload: unknown) =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/webhooks',
        headers: ADMIN,
        payload: payload as object,
      });
    for (const payload of [
      { url: 'ftp://example.com/hook' },
      { url: 'https://user:pw@example.com/hook' },
      { url: 'not a url at all' },
      { url: 'https://example.com/hook', events: ['license.exploded'] },
      { url: 'https://example.com/hook', extra: true },
      { url: 42 },
      { url: `https://example.com/${'a'.repeat(3000)}` },
    ]) {
      const response = await post(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('BAD_REQUEST');
    }
    const listed = await app.inject({ url: '/v1/admin/webhooks', headers: ADMIN });
    expect(listed.json()).toEqual({ endpoints: [] });
  });
});
