/**
 * The database behind the store: PGlite (PostgreSQL compiled to WebAssembly, embedded,
 * zero set-up) by default, PostgreSQL through DATABASE_URL. Both speak the same SQL, so
 * the store has one dialect; this interface is all the repositories see.
 */
import type { DirectoryLock } from './directory-lock.js';
import { lockDirectory } from './directory-lock.js';

export interface Queryable {
  /** Runs one statement with $1-style parameters and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `work` in one transaction (BEGIN … COMMIT, ROLLBACK on error). Statements that
   * must see a consistent row lock it with SELECT … FOR UPDATE inside.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PgliteOptions {
  /** Directory for the data files; omit for an in-memory database (tests). */
  dataDir?: string;
}

/** The embedded database directory exists but PGlite cannot open it. */
export class DatabaseOpenError extends Error {
  readonly code = 'DATA_DIRECTORY_DAMAGED';
  constructor(
    readonly directory: string,
    cause: unknown,
  ) {
    super(
      `PGlite could not open the database in ${directory} (${describe(cause)}). The directory may be damaged — typically by a second process writing to it, or a full disk. To recover, stop every store using it, move it aside (mv ${directory} ${directory}.damaged) and put back your latest copy of it, or start with an empty one (the store recreates it; orders and licenses in the old one are then not served).`,
      { cause },
    );
    this.name = 'DatabaseOpenError';
  }
}

function describe(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split('.')[0]?.slice(0, 120) || 'unknown error';
}

export async function openPglite(options: PgliteOptions = {}): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  let lock: DirectoryLock | undefined;
  if (options.dataDir) {
    const { mkdir } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(options.dataDir), { recursive: true, mode: 0o700 });
    // Before the first byte of the directory is read: a second process must not even open it.
    lock = await lockDirectory(options.dataDir);
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  }
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
    await pglite.waitReady;
  } catch (error) {
    await lock?.release();
    throw options.dataDir ? new DatabaseOpenError(options.dataDir, error) : error;
  }
  return {
    kind: 'pglite',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await pglite.query<Row>(sql, params as unknown[])).rows;
    },
    transaction<T>(work: (tx: Queryable) => Promise<T>) {
      return pglite.transaction((tx) =>
        work({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            return (await tx.query<Row>(sql, params as unknown[])).rows;
          },
          async exec(sql: string) {
            await tx.exec(sql);
          },
        }),
      );
    },
    async exec(sql: string) {
      await pglite.exec(sql);
    },
    async close() {
      try {
        await pglite.close();
      } finally {
        await lock?.release();
      }
    },
  };
}

export interface PostgresOptions {
  connectionString: string;
  /** Pool size. Default 10. */
  max?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pg = await import('pg');
  const Pool = pg.default?.Pool ?? (pg as unknown as typeof pg.default).Pool;
  // int8 (money in minor units, counters) as JavaScript numbers: every value the store
  // writes is a safe integer, and PGlite already returns numbers.
  pg.default.types.setTypeParser(20, (value: string) => Number(value));
  const pool = new Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
  // Fail at start-up, not on the first request, when the database is unreachable.
  await pool.query('select 1');
  return {
    kind: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, params as unknown[])).rows as Row[];
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            return (await client.query(sql, params as unknown[])).rows as Row[];
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}
