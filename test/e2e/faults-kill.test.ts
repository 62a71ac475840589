/**
 * The store loses nothing it acknowledged when it is killed. A real `licensekit serve`
 * takes a bounded load over loopback — checkouts (test provider: paid at once),
 * activations with device proofs, refreshes by token and by key, upgrades — and is
 * SIGKILLed at seeded moments of it, then restarted on the same data directory (PGlite)
 * or database (PostgreSQL). After every restart everything answered 2xx before the kill
 * must be there: each order in the admin API, each license key working on the plan it was
 * last answered with, each token accepted for a refresh. Requests the kill left without
 * an answer are retried as a client would (a checkout with the same Idempotency-Key: one
 * order, never two). At the end the database itself is read: every token handed out is in
 * the issuance log, each lineage is contiguous with `prev` = hash of the token before, no
 * charge without its plan change nor a plan change without its charge, no seat over the
 * limit, no idempotency claim without its answer. And an auditor's `licensekit export` and
 * `licensekit audit store` of the store after the kills find nothing.
 *
 * Seed: LICENSEKIT_FAULT_SEED (printed), so a failing run can be replayed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Db } from '../../packages/store/src/db/client.js';
import { openPglite, openPostgres } from '../../packages/store/src/db/client.js';
import {
  createScratchDatabase,
  type ScratchDatabase,
} from '../../packages/store/src/db/scratch.js';
import { licensekit } from './support/marketplace.js';
import {
  type CheckoutBody,
  type DeviceKey,
  deviceKey,
  inBatches,
  jwtClaims,
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

const SEED = Number(process.env.LICENSEKIT_FAULT_SEED ?? 20_260_115);
const KILLS = 6;
const WORKERS = 6;
const ADMIN_TOKEN = 'faults-kill-admin-token';
const BASE_PLAN = 'pro-monthly';
const UPGRADE_PLAN = 'team-yearly';

const root = mkdtempSync(join(tmpdir(), 'licensekit-faults-kill-'));
afterAll(async () => {
  await killStoreProcesses();
  rmSync(root, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, so kill moments and request mixes replay. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Milliseconds of load before each kill: one early (mid-first-requests), the rest spread. */
function killMoments(seed: number): number[] {
  const random = seeded(seed);
  return Array.from({ length: KILLS }, (_, i) => (i === 0 ? 50 : 80 + Math.floor(random() * 620)));
}

interface AckedToken {
  licenseId: string;
  token: string;
  format: TokenFormat;
  /** The device the token is bound to (a refresh with it needs that device's proof). */
  device: DeviceKey | undefined;
}

interface LicenseEntry {
  id: string;
  key: string;
  /** The plan of the last answer about it. */
  plan: string;
  /** A plan change that was sent and never answered: it may or may not have happened. */
  planInDoubt: string | undefined;
  tokens: AckedToken[];
}

/** The part of a checkout's 201 the ledger keeps. */
interface CheckoutAnswer {
  order: { id: string };
  license: { id: string; key: string; token?: string };
}

/** Everything the store acknowledged, and what the kills left in doubt. */
class Ledger {
  readonly orders = new Map<string, { licenseId: string; kind: 'purchase' | 'upgrade' }>();
  readonly licenses = new Map<string, LicenseEntry>();
  readonly tokens: AckedToken[] = [];
  /** Per worker, the licenses it bought: one request at a time per license. */
  readonly owned: LicenseEntry[][] = Array.from({ length: WORKERS }, () => []);
  checkoutsInDoubt: { worker: number; idempotencyKey: string; body: CheckoutBody }[] = [];
  readonly anomalies: string[] = [];
  /** Licenses answered about since the last check. */
  touched = new Set<string>();
  answered = 0;
  unanswered = 0;

  anomaly(what: string, answer: { status: number; body: unknown } | undefined) {
    this.anomalies.push(
      `${what}: ${answer ? `${answer.status} ${JSON.stringify(answer.body)}` : 'no answer while the store was up'}`,
    );
  }

  /** A 201 checkout: its order, license and first token. */
  acceptCheckout(worker: number, body: CheckoutBody, answer: CheckoutAnswer) {
    const { order, license } = answer;
    this.orders.set(order.id, { licenseId: license.id, kind: 'purchase' });
    let entry = this.licenses.get(license.id);
    if (!entry) {
      entry = {
        id: license.id,
        key: license.key,
        plan: BASE_PLAN,
        planInDoubt: undefined,
        tokens: [],
      };
      this.licenses.set(license.id, entry);
      this.owned[worker]?.push(entry);
    }
    if (license.token === undefined)
      this.anomalies.push(`checkout ${order.id} paid without a token`);
    else this.acceptToken(entry, license.token, body.format ?? 'cwt', undefined);
  }

  acceptToken(
    license: LicenseEntry,
    token: string,
    format: TokenFormat,
    device: DeviceKey | undefined,
  ) {
    const acked = { licenseId: license.id, token, format, device };
    license.tokens.push(acked);
    this.tokens.push(acked);
    this.touched.add(license.id);
  }
}

/** One worker: a seeded mix of requests on its own licenses until the store is killed. */
async function worker(
  client: StoreClient,
  ledger: Ledger,
  index: number,
  random: () => number,
  load: { stopped: boolean },
): Promise<void> {
  const mine = ledger.owned[index] ?? [];
  // Each step answers whether the store answered; a missing answer ends the worker.
  const step = async (): Promise<boolean> => {
    const format: TokenFormat = random() < 0.5 ? 'jwt' : 'cwt';
    const license = mine.length > 0 ? mine[Math.floor(random() * mine.length)] : undefined;
    const roll = random();
    if (!license || roll < 0.2) {
      const body = {
        productId: 'photon',
        planId: BASE_PLAN,
        email: `faults-${randomUUID()}@example.com`,
        format,
      };
      const idempotencyKey = randomUUID();
      const answer = await client.checkout(body, idempotencyKey);
      if (!answer) {
        ledger.checkoutsInDoubt.push({ worker: index, idempotencyKey, body });
        return false;
      }
      if (answer.status === 201) ledger.acceptCheckout(index, body, answer.body);
      else ledger.anomaly('checkout', answer);
      return true;
    }
    if (roll < 0.35) {
      const device = await deviceKey();
      const answer = await client.activate(license.key, device, format);
      if (!answer) return false;
      if (answer.status === 200) ledger.acceptToken(license, answer.body.token, format, device);
      else if (answer.body?.error?.code !== 'SEATS_FULL') ledger.anomaly('activate', answer);
      return true;
    }
    if (roll < 0.6) {
      // Any token answered earlier, from before a kill too: each must be in the log.
      const earlier = license.tokens[Math.floor(random() * license.tokens.length)];
      if (!earlier) return true;
      const answer = await client.refreshWithToken(earlier.token, earlier.device, format);
      if (!answer) return false;
      if (answer.status === 200)
        ledger.acceptToken(license, answer.body.token, format, earlier.device);
      else ledger.anomaly(`refresh with token of ${license.id}`, answer);
      return true;
    }
    if (roll < 0.75) {
      const answer = await client.refreshWithKey(license.key, format);
      if (!answer) return false;
      if (answer.status === 200) ledger.acceptToken(license, answer.body.token, format, undefined);
      else ledger.anomaly(`refresh with key of ${license.id}`, answer);
      return true;
    }
    if (roll < 0.85 && license.plan === BASE_PLAN && license.planInDoubt === undefined) {
      license.planInDoubt = UPGRADE_PLAN;
      const answer = await client.changePlan(license.key, UPGRADE_PLAN, format);
      if (!answer) return false;
      license.planInDoubt = undefined;
      if (answer.status !== 200 || answer.body.plan !== UPGRADE_PLAN || !answer.body.order) {
        ledger.anomaly(`upgrade of ${license.id}`, answer);
        return true;
      }
      license.plan = UPGRADE_PLAN;
      ledger.orders.set(answer.body.order.id, { licenseId: license.id, kind: 'upgrade' });
      ledger.acceptToken(license, answer.body.token, format, undefined);
      return true;
    }
    const answer = await client.status(license.key);
    if (!answer) return false;
    if (
      answer.status !== 200 ||
      (license.planInDoubt === undefined && answer.body.plan !== license.plan)
    )
      ledger.anomaly(`status of ${license.id} (on ${license.plan})`, answer);
    ledger.touched.add(license.id);
    return true;
  };
  while (!load.stopped) {
    const answered = await step();
    if (answered) ledger.answered++;
    else {
      ledger.unanswered++;
      if (!load.stopped) ledger.anomaly(`worker ${index}`, undefined);
      return;
    }
  }
}

/** Runs the load for `ms`, then SIGKILLs the store with its requests in flight. */
async function loadThenKill(
  store: StoreProcess,
  ledger: Ledger,
  cycle: number,
  ms: number,
): Promise<{ answered: number; inFlight: number }> {
  const client = new StoreClient(store.url, ADMIN_TOKEN);
  const load = { stopped: false };
  const before = ledger.answered;
  const workers = Array.from({ length: WORKERS }, (_, index) =>
    worker(client, ledger, index, seeded(SEED + cycle * 104_729 + index * 7_919), load),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  load.stopped = true;
  const unansweredBefore = ledger.unanswered;
  await store.kill();
  await Promise.all(workers);
  return { answered: ledger.answered - before, inFlight: ledger.unanswered - unansweredBefore };
}

/**
 * After a restart: what the kill left in doubt is settled as a client would, then every
 * acknowledgement is checked through the API (`all`: every license, else those touched
 * since the last check).
 */
async function checkAcknowledged(store: StoreProcess, ledger: Ledger, all: boolean) {
  const client = new StoreClient(store.url, ADMIN_TOKEN);
  // A checkout whose answer was lost is retried with the same key: 201, the first
  // attempt's order if it was committed, a new one if not.
  const retried = ledger.checkoutsInDoubt;
  ledger.checkoutsInDoubt = [];
  for (const { worker, idempotencyKey, body } of retried) {
    const answer = await client.checkout(body, idempotencyKey);
    if (answer?.status === 201) ledger.acceptCheckout(worker, body, answer.body);
    else ledger.anomaly(`checkout retried after the kill`, answer);
  }

  const orders = await client.adminOrders();
  const byId = new Map(orders.map((order) => [order.id, order]));
  for (const [id, acked] of ledger.orders) {
    const order = byId.get(id);
    expect(order, `order ${id} was answered 201/200 before a kill`).toBeDefined();
    expect(order?.status, `order ${id}`).toBe('paid');
    expect(order?.licenseId, `order ${id}`).toBe(acked.licenseId);
    expect(order?.kind, `order ${id}`).toBe(acked.kind);
  }
  // The test provider pays at once: an order in any other state is half-written.
  expect(orders.filter((order) => order.status !== 'paid')).toEqual([]);
  // Every buyer has a fresh e-mail: two purchases for one is a retry charged twice.
  const purchases = new Map<string, number>();
  for (const order of orders.filter((o) => o.kind === 'purchase'))
    purchases.set(order.customerEmail, (purchases.get(order.customerEmail) ?? 0) + 1);
  expect([...purchases].filter(([, count]) => count > 1)).toEqual([]);

  const licenses = [...ledger.licenses.values()].filter(
    (license) => all || ledger.touched.has(license.id) || license.planInDoubt !== undefined,
  );
  await inBatches(licenses, 8, async (license) => {
    const answer = await client.status(license.key);
    if (answer?.status !== 200)
      return ledger.anomaly(`status of ${license.id} after restart`, answer);
    const plan = answer.body.plan as string;
    if (license.planInDoubt !== undefined && plan === license.planInDoubt) license.plan = plan;
    else if (plan !== license.plan)
      ledger.anomaly(`plan of ${license.id} (${license.plan})`, answer);
    license.planInDoubt = undefined;
  });
  ledger.touched = new Set();
  expect(ledger.anomalies).toEqual([]);
  return { retried: retried.length, orders: orders.length, licensesChecked: licenses.length };
}

/** base64url SHA-256 of a token's bytes: the text of a JWT, the decoded bytes of a CWT. */
function tokenHash(token: string, format: string): string {
  const bytes = format === 'jwt' ? Buffer.from(token, 'utf8') : Buffer.from(token, 'base64url');
  return createHash('sha256').update(bytes).digest('base64url');
}

/** The database after the last restart: issuance log, money and seats. */
async function checkDatabase(db: Db, ledger: Ledger) {
  const tokens = await db.query<{
    license_id: string;
    seq: number;
    hash: string;
    prev: string | null;
    token: string;
    format: string;
  }>('SELECT license_id, seq, hash, prev, token, format FROM tokens ORDER BY license_id, seq');
  const licenses = await db.query<{
    id: string;
    plan_id: string;
    seats: number;
    seq: number;
    last_token_hash: string | null;
  }>('SELECT id, plan_id, seats, seq, last_token_hash FROM licenses');
  const orders = await db.query<{ license_id: string | null; kind: string; status: string }>(
    'SELECT license_id, kind, status FROM orders',
  );
  const devices = await db.query<{ license_id: string; active: number }>(
    'SELECT license_id, count(*)::int AS active FROM devices WHERE deactivated_at IS NULL GROUP BY license_id',
  );
  const [claims] = await db.query<{ open: number }>(
    'SELECT count(*)::int AS open FROM idempotency_keys WHERE response IS NULL',
  );

  const lineages = new Map<string, typeof tokens>();
  for (const row of tokens) {
    const lineage = lineages.get(row.license_id) ?? [];
    lineage.push(row);
    lineages.set(row.license_id, lineage);
  }
  const byHash = new Map(tokens.map((row) => [row.hash, row]));
  for (const license of licenses) {
    const lineage = lineages.get(license.id) ?? [];
    expect(
      lineage.map((row) => row.seq),
      `seq of ${license.id}`,
    ).toEqual(lineage.map((_, index) => index));
    lineage.forEach((row, index) => {
      expect(row.hash, `hash of ${license.id} #${index}`).toBe(tokenHash(row.token, row.format));
      expect(row.prev, `prev of ${license.id} #${index}`).toBe(
        index === 0 ? null : (lineage[index - 1]?.hash ?? 'missing'),
      );
    });
    expect(license.seq, `seq of ${license.id}`).toBe(lineage.length - 1);
    expect(license.last_token_hash, `last token of ${license.id}`).toBe(
      lineage.at(-1)?.hash ?? null,
    );

    const paid = orders.filter((o) => o.license_id === license.id && o.status === 'paid');
    expect(
      paid.filter((o) => o.kind === 'purchase'),
      `purchase of ${license.id}`,
    ).toHaveLength(1);
    expect(paid.filter((o) => o.kind === 'upgrade').length, `upgrade charge of ${license.id}`).toBe(
      license.plan_id === UPGRADE_PLAN ? 1 : 0,
    );
    const active = devices.find((d) => d.license_id === license.id)?.active ?? 0;
    expect(active, `active devices of ${license.id}`).toBeLessThanOrEqual(license.seats);
  }
  expect(orders.filter((o) => o.status !== 'paid')).toEqual([]);
  expect(claims?.open, 'idempotency claims without their answer').toBe(0);

  for (const license of ledger.licenses.values()) {
    expect(licenses.find((l) => l.id === license.id)?.plan_id, `plan of ${license.id}`).toBe(
      license.plan,
    );
  }
  for (const acked of ledger.tokens) {
    const row = byHash.get(tokenHash(acked.token, acked.format));
    expect(row, `a token answered for ${acked.licenseId} is in the issuance log`).toBeDefined();
    expect(row?.token).toBe(acked.token);
    expect(row?.license_id).toBe(acked.licenseId);
    if (acked.format === 'jwt' && row) {
      const claims = jwtClaims(acked.token);
      expect([claims.sub, claims.seq, claims.prev ?? null]).toEqual([
        acked.licenseId,
        row.seq,
        row.prev,
      ]);
    }
  }
  return { tokens: tokens.length, licenses: licenses.length, orders: orders.length };
}

/**
 * The auditor's view after the kills: `licensekit export` of the running store, then
 * `licensekit audit store` against the store's root and log keys. Exit 0 = no finding:
 * every token in the log verifies, each lineage is whole and each is justified by the
 * store's orders and plan changes, the log's root matches its checkpoints.
 */
async function exportAndAudit(store: StoreProcess, dir: string) {
  const keys = (await (await fetch(`${store.url}/v1/keys`)).json()) as {
    roots: unknown[];
    log: { key: string };
  };
  mkdirSync(dir, { recursive: true });
  const rootFile = join(dir, 'root.pub.json');
  writeFileSync(rootFile, JSON.stringify(keys.roots[0]));
  const out = join(dir, 'export');
  const exported = await licensekit(
    'export',
    '--store',
    store.url,
    '--token',
    ADMIN_TOKEN,
    '--out',
    out,
  );
  if (exported.code !== 0) return exported;
  return licensekit('audit', 'store', out, '--trust', rootFile, '--log-key', keys.log.key);
}

interface Backend {
  start(): Promise<StoreProcess>;
  /** The store's database, opened by the test once the store has stopped. */
  open(): Promise<Db>;
}

async function killCycles(name: string, backend: Backend) {
  const moments = killMoments(SEED);
  const ledger = new Ledger();
  const started = performance.now();
  const report: string[] = [];
  let store = await backend.start();
  for (const [cycle, ms] of moments.entries()) {
    const { answered, inFlight } = await loadThenKill(store, ledger, cycle, ms);
    store = await backend.start();
    const checked = await checkAcknowledged(store, ledger, false);
    report.push(
      `kill ${cycle + 1} after ${ms} ms of load: ${answered} answered, ${inFlight} in flight, ${checked.retried} checkouts retried`,
    );
  }
  const final = await checkAcknowledged(store, ledger, true);
  const audited = await exportAndAudit(store, join(root, `${name}-audit`));
  expect(
    audited.code,
    `licensekit audit store after the kills:\n${audited.out}${audited.err}`,
  ).toBe(0);
  expect((await store.stop()).code).toBe(0);
  const db = await backend.open();
  let stored: Awaited<ReturnType<typeof checkDatabase>>;
  try {
    stored = await checkDatabase(db, ledger);
  } finally {
    await db.close();
  }
  console.info(
    [
      `faults-kill ${name} (seed ${SEED}): ${KILLS} kills in ${Math.round(performance.now() - started)} ms`,
      ...report.map((line) => `  ${line}`),
      `  answered ${ledger.answered}, unanswered ${ledger.unanswered}; acknowledged ${ledger.orders.size} orders, ${ledger.licenses.size} licenses, ${ledger.tokens.length} tokens`,
      `  after the last restart: ${final.orders} orders listed, ${final.licensesChecked} licenses answered; database: ${stored.tokens} tokens, ${stored.licenses} licenses, ${stored.orders} orders`,
    ].join('\n'),
  );
  // Every kill caught requests in flight, and the load did real work in between (how much
  // depends on how busy the machine is: a loaded CI runner got 47 tokens out of PGlite, an
  // idle one 130; a few per kill is what keeps the test from being vacuous).
  expect(ledger.unanswered).toBeGreaterThanOrEqual(KILLS);
  expect(ledger.tokens.length).toBeGreaterThanOrEqual(KILLS * 3);
}

describe('a store SIGKILLed under load loses nothing it acknowledged', () => {
  test('PGlite: the data directory', async () => {
    const dataDir = join(root, 'pglite');
    await killCycles('PGlite', {
      start: () => startStoreProcess({ dataDir, adminToken: ADMIN_TOKEN }),
      open: () => openPglite({ dataDir: join(dataDir, 'db') }),
    });
  });

  test.skipIf(postgresUnavailable)('PostgreSQL: DATABASE_URL', async () => {
    let scratch: ScratchDatabase | undefined;
    try {
      scratch = await createScratchDatabase(postgresAdminUrl ?? '', 'lk_faults_kill');
      const databaseUrl = scratch.url;
      const dataDir = join(root, 'postgres');
      await killCycles('PostgreSQL', {
        start: () => startStoreProcess({ dataDir, adminToken: ADMIN_TOKEN, databaseUrl }),
        open: () => openPostgres({ connectionString: databaseUrl, max: 1 }),
      });
    } finally {
      await killStoreProcesses();
      await scratch?.drop();
    }
  });
});
