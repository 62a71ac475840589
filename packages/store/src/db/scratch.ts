import { randomBytes } from 'node:crypto';
import { openPostgres } from './client.js';

/** A throw-away PostgreSQL database, for the test harness and the store benchmark. */
export interface ScratchDatabase {
  /** A connection string for it. */
  url: string;
  /** Drops it, after the pools that used it have been closed. */
  drop(): Promise<void>;
}

/**
 * Creates a database named `<prefix>_<random>` through `adminUrl`, a role that may
 * CREATE DATABASE, and keeps one admin connection to drop it later.
 */
export async function createScratchDatabase(
  adminUrl: string,
  prefix: string,
): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await openPostgres({ connectionString: adminUrl, max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      // pg's pool.end() resolves before its sockets have closed; forcing the drop while
      // they are still open makes those clients fail with 57P01 afterwards. Wait (at most
      // a second) for the server to see them gone.
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
