import { randomBytes } from 'node:crypto';
import type { Db } from './client.js';
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
      await dropDatabase(admin, name);
      await admin.close();
    },
  };
}

/**
 * DROP DATABASE … WITH (FORCE), which terminates the sessions still connected. When
 * autovacuum happens to be working on the database, FORCE refuses a role that is not a
 * superuser (42501: its worker is not the role's to terminate; seen once at the end of a
 * test file); a plain DROP signals autovacuum workers itself and waits for them, so that
 * is tried then, and FORCE again if a session came back meanwhile.
 */
export async function dropDatabase(admin: Pick<Db, 'query'>, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42501' || attempt === 5) throw error;
    }
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      return;
    } catch (error) {
      // 55006: another session uses it; FORCE again.
      if ((error as { code?: string }).code !== '55006') throw error;
    }
  }
}
