/**
 * The database behind the store: PGlite (PostgreSQL compiled to WebAssembly, embedded,
 * zero set-up) by default, PostgreSQL through DATABASE_URL. Both speak the same SQL, so
 * the store has one dialect; this interface is all the repositories see.
 */

import { createHash } from 'node:crypto';
import type { PoolClient, QueryConfig } from 'pg';
import { ConfigurationError } from '../config.js';
import { StoreError } from '../errors.js';
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
  /**
   * Run PGlite in a worker thread (pglite-worker.ts), so its executor and the store's
   * HTTP work use two cores; default false: on the calling thread.
   * LICENSEKIT_PGLITE_WORKER=1 or 0, when set, decides instead (tests run the whole store
   * suite on either).
   */
  worker?: boolean;
}

/** LICENSEKIT_PGLITE_WORKER: '1' forces the worker thread, '0' the calling thread. */
function workerFromEnvironment(): boolean | undefined {
  const text = process.env.LICENSEKIT_PGLITE_WORKER;
  if (text === undefined || text === '') return undefined;
  if (text === '1') return true;
  if (text === '0') return false;
  throw new ConfigurationError(`LICENSEKIT_PGLITE_WORKER must be 1 or 0 (got ${text})`);
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
  const inWorker = workerFromEnvironment() ?? options.worker ?? false;
  let lock: DirectoryLock | undefined;
  if (options.dataDir) {
    const { mkdir } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(options.dataDir), { recursive: true, mode: 0o700 });
    // Before the first byte of the directory is read: a second process must not even open it.
    lock = await lockDirectory(options.dataDir);
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  }
  if (inWorker) return openInWorker(options.dataDir, lock);
  const { PGlite } = await import('@electric-sql/pglite');
  const { preparedStatements } = await import('./pglite-prepared.js');
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
    await pglite.waitReady;
  } catch (error) {
    await lock?.release();
    throw options.dataDir ? new DatabaseOpenError(options.dataDir, error) : error;
  }
  // Each text parsed and planned once (pglite-prepared.ts).
  const statements = preparedStatements(pglite);
  return {
    kind: 'pglite',
    query<Row>(sql: string, params: readonly unknown[] = []) {
      return statements.query<Row>(sql, params);
    },
    transaction<T>(work: (tx: Queryable) => Promise<T>) {
      return pglite.transaction((tx) =>
        work({
          query<Row>(sql: string, params: readonly unknown[] = []) {
            return statements.queryIn<Row>(tx, sql, params);
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

/**
 * PGlite in a worker thread; the directory lock stays with this thread (the process), so
 * it is released here once the worker has closed the database, or failed to open it.
 */
async function openInWorker(dataDir: string | undefined, lock: DirectoryLock | undefined) {
  // Loaded on use: pglite-worker.ts builds on this module's error classes.
  const { openPgliteWorker, PgliteWorkerOpenError } = await import('./pglite-worker.js');
  let db: Db;
  try {
    db = await openPgliteWorker(dataDir ? { dataDir } : {});
  } catch (error) {
    await lock?.release();
    // What PGlite said about the directory; a worker that could not start (its script
    // missing, a crash) is not the directory's fault and keeps its own message.
    if (!(error instanceof PgliteWorkerOpenError)) throw error;
    throw dataDir ? new DatabaseOpenError(dataDir, error.cause) : error.cause;
  }
  if (!lock) return db;
  return {
    ...db,
    async close() {
      try {
        await db.close();
      } finally {
        await lock.release();
      }
    },
  };
}

export interface PostgresOptions {
  connectionString: string;
  /** Pool size. Default 10. */
  max?: number;
  /**
   * The longest a request waits for PostgreSQL: to get a connection (a new one, or a free
   * slot of a full pool) and for each statement's answer. Past it the statement fails
   * with DATABASE_UNAVAILABLE. Default LICENSEKIT_DATABASE_TIMEOUT_MS, else 10 s.
   */
  timeoutMs?: number;
}

/** The database cannot be reached or stopped answering: 503, retry later. */
export class DatabaseUnavailableError extends StoreError {
  constructor(cause: unknown) {
    super('DATABASE_UNAVAILABLE');
    this.name = 'DatabaseUnavailableError';
    this.cause = cause;
  }
}

/** Socket errors of a lost or unreachable server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is gone or refusing work: class 08 (connection exception),
 * 57P01-57P03 (admin or crash shutdown, cannot connect now: a restart or failover), 53300
 * (too many connections).
 */
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;

/** What node-postgres says when it loses or cannot get a connection, or a statement times out. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
];

/**
 * True for errors that mean "the database is not there right now" rather than "this
 * statement is wrong": the request may succeed later, unchanged. A pool the store itself
 * closed is not one of them (that is a bug, answered 500).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code)))
    return true;
  return UNAVAILABLE_MESSAGES.some((text) => error.message.includes(text));
}

/**
 * True for a write the disk refused for want of space: SQLSTATE 53100 (disk_full, what
 * PostgreSQL and PGlite say when a table or the WAL cannot grow) or a file write's ENOSPC
 * or EDQUOT (uploads, keys). The statement's transaction rolled back: nothing of the
 * request is recorded, and the same request succeeds once space is freed.
 */
export function isStorageFull(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown })?.code;
  return code === '53100' || code === 'ENOSPC' || code === 'EDQUOT';
}

function unavailableAsStoreError(error: unknown): unknown {
  return isDatabaseUnavailable(error) && !(error instanceof DatabaseUnavailableError)
    ? new DatabaseUnavailableError(error)
    : error;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function timeoutFromEnvironment(): number {
  const text = process.env.LICENSEKIT_DATABASE_TIMEOUT_MS;
  if (text === undefined || text === '') return DEFAULT_TIMEOUT_MS;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`LICENSEKIT_DATABASE_TIMEOUT_MS must be a whole number > 0 (got ${text})`);
  }
  return value;
}

/** Distinct statements given a name; past this, statements go unnamed (parsed each time). */
const PREPARED_LIMIT = 512;
const statementNames = new Map<string, string>();

/**
 * A statement as a named (prepared) one: PostgreSQL parses and plans it once per
 * connection instead of at every call — on the refresh path, parse and plan were about
 * 40 % of the database's time per request (BENCHMARKS.md). The name is a hash of the text,
 * so one text always has one name on every connection. The store's statements are a fixed
 * set; the limit only guards against a text built from values, which would otherwise
 * leave a prepared statement per value on every connection.
 */
function prepared(text: string, params: readonly unknown[]): QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < PREPARED_LIMIT) {
    name = `lk_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
    statementNames.set(text, name);
  }
  return name === undefined
    ? { text, values: params as unknown[] }
    : { name, text, values: params as unknown[] };
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pg = await import('pg');
  const Pool = pg.default?.Pool ?? (pg as unknown as typeof pg.default).Pool;
  // int8 (money in minor units, counters) as JavaScript numbers: every value the store
  // writes is a safe integer, and PGlite already returns numbers.
  pg.default.types.setTypeParser(20, (value: string) => Number(value));
  const timeoutMs = options.timeoutMs ?? timeoutFromEnvironment();
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    // Without these a request waits for ever on a server that went silent (a partition)
    // or on a full pool of such connections; Fastify's request timeout does not cover a
    // handler's wait. A timed-out connection is destroyed, never reused.
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
  });
  // A connection the server closes (restart, failover, a proxy's idle cut) emits 'error'
  // on its client, and an 'error' event nobody listens to ends the whole store process.
  // pg-pool listens only while a client is idle (then re-emits on the pool): not while it
  // is checked out, nor between handing it to `await pool.connect()` and the awaiting code
  // running — a FATAL that follows ReadyForQuery in the same TCP read lands there. So every
  // client listens for its whole life; the loss reaches the request through its statement,
  // which fails (503), and pg-pool drops the client instead of reusing it.
  const ignore = () => undefined;
  pool.on('error', ignore);
  pool.on('connect', (client) => client.on('error', ignore));
  // Fail at start-up, not on the first request, when the database is unreachable.
  await pool.query('select 1');
  const query = async <Row>(sql: string, params: readonly unknown[] = []) => {
    try {
      return (await pool.query(prepared(sql, params))).rows as Row[];
    } catch (error) {
      throw unavailableAsStoreError(error);
    }
  };
  return {
    kind: 'postgres',
    query,
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailableAsStoreError(error);
      }
      // Released with an error, pg-pool destroys the connection instead of reusing it.
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            try {
              return (await client.query(prepared(sql, params))).rows as Row[];
            } catch (error) {
              throw unavailableAsStoreError(error);
            }
          },
          async exec(sql: string) {
            try {
              await client.query(sql);
            } catch (error) {
              throw unavailableAsStoreError(error);
            }
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          // No ROLLBACK on a dead or silent connection (it would wait out another
          // timeout): the server rolls back when the connection closes.
          broken = error as Error;
        } else {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            broken = rollbackError;
          });
        }
        throw unavailableAsStoreError(error);
      } finally {
        client.release(broken);
      }
    },
    async exec(sql: string) {
      // Scripts (migrations) of several statements: the simple protocol, never prepared.
      try {
        await pool.query(sql);
      } catch (error) {
        throw unavailableAsStoreError(error);
      }
    },
    close: () => pool.end(),
  };
}
