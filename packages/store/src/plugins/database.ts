import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { StoreConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { openPglite, openPostgres } from '../db/client.js';
import { migrate } from '../db/migrate.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    /**
     * Whether this process alone uses the database: PGlite it opened from its (locked) data
     * directory. Work other instances could hold — outbox claims — is then this process's
     * own from an earlier life, and can be taken back at start.
     */
    dbExclusive: boolean;
  }
}

/**
 * The database as a decorator: PGlite in dataDir/db, in a worker thread, unless
 * DATABASE_URL names a PostgreSQL server; migrations applied before the first request. A
 * database passed in (tests) is used as is and left open for its owner.
 */
async function database(
  fastify: FastifyInstance,
  options: { config: StoreConfig; db?: Db | undefined },
) {
  const owned = options.db === undefined;
  const db =
    options.db ??
    (options.config.databaseUrl
      ? await openPostgres({ connectionString: options.config.databaseUrl })
      : // In a worker thread: PGlite's executor on a core of its own, beside HTTP and signing.
        await openPglite({ dataDir: join(options.config.dataDir, 'db'), worker: true }));
  let applied: Awaited<ReturnType<typeof migrate>>;
  try {
    applied = await migrate(db);
  } catch (error) {
    // A store that cannot start must not keep the database (and PGlite's directory lock).
    if (owned) await db.close().catch(() => undefined);
    throw error;
  }
  if (applied.length > 0)
    fastify.log.info({ migrations: applied, database: db.kind }, 'migrations applied');
  fastify.decorate('db', db);
  fastify.decorate('dbExclusive', owned && db.kind === 'pglite');
  if (owned) fastify.addHook('onClose', () => db.close());
}

export default fp(database, { name: 'database' });
