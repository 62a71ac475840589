import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BuildOptions } from '../build.js';
import { buildStore } from '../build.js';
import type { Db } from '../db/client.js';
import { openPglite, openPostgres } from '../db/client.js';
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
  const name = `lk_test_${randomBytes(6).toString('hex')}`;
  const admin = await openPostgres({ connectionString: adminUrl, max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openPostgres({ connectionString: url.toString() });
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      // pg's pool.end() resolves before its sockets have closed; forcing the drop while
      // they are still open makes those clients fail with 57P01 after the test. Wait
      // (briefly) for the server to see them gone.
      for (let attempt = 0; attempt < 50; attempt++) {
        const [row] = await admin.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1',
          [name],
        );
        if (!row || row.count === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
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
    // Tests run the billing cycle themselves (runBillingCycle with the manual clock).
    licensing: { billing: { enabled: false } },
    ...options,
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
