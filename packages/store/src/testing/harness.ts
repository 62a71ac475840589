import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BuildOptions } from '../build.js';
import { buildStore } from '../build.js';
import type { Db } from '../db/client.js';
import { openPglite, openPostgres } from '../db/client.js';
import { createScratchDatabase } from '../db/scratch.js';
import { ManualClock } from '../lib/clock.js';

/**
 * The store's test harness. Every store test runs twice: on PGlite (project "store") and
 * on PostgreSQL (project "store-postgres", LICENSEKIT_TEST_DB=postgres), each test file on
 * a database of its own. PostgreSQL comes from LICENSEKIT_TEST_DATABASE_URL, a role that
 * may CREATE DATABASE; `.ci/run` starts one. Without it the PostgreSQL run is skipped
 * locally and fails in CI.
 */
export type TestDatabaseKind = 'pglite' | 'postgres';

export const testDatabaseKind: TestDatabaseKind =
  process.env.LICENSEKIT_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

const adminUrl = process.env.LICENSEKIT_TEST_DATABASE_URL;

/** Why the PostgreSQL run cannot happen here, or undefined when it can. */
export const postgresUnavailable: string | undefined =
  testDatabaseKind === 'postgres' && !adminUrl
    ? 'LICENSEKIT_TEST_DATABASE_URL is not set (a PostgreSQL role that may create databases)'
    : undefined;

if (postgresUnavailable && process.env.CI) {
  throw new Error(`store tests on PostgreSQL cannot run: ${postgresUnavailable}`);
}
// Said once at the end of the run by the skip reporter (test/support/skip.ts, same mark).
if (postgresUnavailable)
  console.warn(`[licensekit:skip] the store tests on PostgreSQL: ${postgresUnavailable}`);

export interface TestDatabase {
  db: Db;
  /** A connection string for the database (PostgreSQL only), e.g. for a second instance. */
  url?: string;
  drop(): Promise<void>;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  if (testDatabaseKind === 'pglite') {
    const db = await openPglite();
    return { db, drop: () => db.close() };
  }
  if (!adminUrl) throw new Error(postgresUnavailable);
  const scratch = await createScratchDatabase(adminUrl, 'lk_test');
  const db = await openPostgres({ connectionString: scratch.url });
  return {
    db,
    url: scratch.url,
    async drop() {
      await db.close();
      await scratch.drop();
    },
  };
}

export interface TestStore {
  app: FastifyInstance;
  db: Db;
  clock: ManualClock;
  dataDir: string;
  /** Closes the app, drops the database, removes the data directory. */
  close(): Promise<void>;
}

/** A store on a fresh database and data directory, with a manual clock. */
export async function buildTestStore(
  options: BuildOptions & { database?: TestDatabase } = {},
): Promise<TestStore> {
  const database = options.database ?? (await openTestDatabase());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'licensekit-store-'));
  const clock =
    options.clock instanceof ManualClock
      ? options.clock
      : new ManualClock(Date.UTC(2026, 0, 15, 12));
  const app = await buildStore({
    publicUrl: 'http://store.test',
    seedDemo: true,
    adminToken: 'test-admin-token',
    ...options,
    // Tests run the billing cycle themselves (runBillingCycle with the manual clock), and
    // buy with the test provider next to any processor they configure.
    licensing: { testPayments: true, ...(options.licensing ?? { billing: { enabled: false } }) },
    dataDir,
    db: database.db,
    clock,
  });
  return {
    app,
    db: database.db,
    clock,
    dataDir,
    async close() {
      await app.close();
      if (!options.database) await database.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
