/**
 * PGlite in a worker thread, behind the same `Db` as PGlite on the store's thread.
 *
 * PGlite's executor is WebAssembly that runs each statement to the end without yielding:
 * on the store's thread it took ≈ 75 % of a refresh's CPU (BENCHMARKS.md), and HTTP
 * parsing, signing and replies waited behind it. In a worker it runs on a core of its
 * own; the store's thread sends each statement as a message and goes on with other
 * requests until the rows come back.
 *
 * Semantics are PGlite's own, applied in the worker (pglite-worker-thread.ts): one
 * transaction at a time, statements outside it queued behind it, ROLLBACK when `work`
 * throws. A transaction costs no message to begin: its first statement carries `begin`.
 * A worker that stops (crash, out of memory, terminated) fails every pending and later
 * call with PgliteWorkerExitedError (DATABASE_UNAVAILABLE, 503) rather than leaving
 * requests waiting for ever.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db, Queryable } from './client.js';
import { DatabaseUnavailableError } from './client.js';
import type { Ready, Reply, Request, Unnumbered, WorkerStart } from './pglite-worker-protocol.js';
import { deserializeError } from './pglite-worker-protocol.js';

/**
 * The worker thread stopped: its database is gone until the store is restarted. Answered
 * 503 DATABASE_UNAVAILABLE like a lost PostgreSQL; the cause (what the store logs) says
 * what happened.
 */
export class PgliteWorkerExitedError extends DatabaseUnavailableError {
  constructor(
    readonly exitCode: number | undefined,
    crash: unknown,
  ) {
    const what = `the PGlite worker thread stopped${exitCode === undefined ? '' : ` (exit code ${exitCode})`}${crash === undefined ? '' : `: ${crash instanceof Error ? crash.message : String(crash)}`}; restart the store to open the database again`;
    super(new Error(what, crash === undefined ? undefined : { cause: crash }));
    this.name = 'PgliteWorkerExitedError';
    this.message = what;
  }
}

/** A call on a Db that close() has ended. */
export class PgliteWorkerClosedError extends Error {
  readonly code = 'DATABASE_CLOSED';
  constructor() {
    super('the PGlite database is closed');
    this.name = 'PgliteWorkerClosedError';
  }
}

/** The opening failed inside the worker; `cause` is PGlite's own error, rebuilt. */
export class PgliteWorkerOpenError extends Error {
  constructor(cause: unknown) {
    super(`PGlite could not open: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'PgliteWorkerOpenError';
  }
}

/**
 * The built worker. From dist/ (the store as Node and the CLI run it, bundled into a file
 * at the root of dist/) it is ./db/pglite-worker-thread.js; from the TypeScript sources
 * (tests) it is the same built file, since a worker thread cannot run TypeScript.
 */
export function workerScript(): URL {
  const here = import.meta.url;
  const candidates = here.endsWith('.ts')
    ? [new URL('../../dist/db/pglite-worker-thread.js', here)]
    : [new URL('./db/pglite-worker-thread.js', here), new URL('./pglite-worker-thread.js', here)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found) {
    throw new Error(
      `the PGlite worker script is missing (looked for ${candidates.map((url) => fileURLToPath(url)).join(', ')}); run node scripts/build.mjs`,
    );
  }
  return found;
}

/** A statement's request, before send() places it in a transaction and numbers it. */
type Statement =
  | { op: 'query'; sql: string; params: readonly unknown[] }
  | { op: 'exec'; sql: string };

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface PgliteWorkerOptions {
  /** The data directory (the caller holds its lock); omit for an in-memory database. */
  dataDir?: string;
  /** The worker script; default workerScript(). Tests pass a hostile one. */
  script?: URL;
}

/**
 * Starts the worker and waits until PGlite is open. Rejects with PgliteWorkerOpenError
 * (PGlite's own error as its cause) when it cannot open.
 */
export async function openPgliteWorker(options: PgliteWorkerOptions = {}): Promise<Db> {
  const workerData: WorkerStart = options.dataDir ? { dataDir: options.dataDir } : {};
  // No execArgv of the parent's (test runners' loaders and flags): the worker is plain
  // built JavaScript.
  const worker = new Worker(options.script ?? workerScript(), { workerData, execArgv: [] });
  const pending = new Map<number, Pending>();
  let lastId = 0;
  /** Set once the worker is gone or closed: every later call fails with it. */
  let stopped: Error | undefined;
  let closing: Promise<void> | undefined;

  const fail = (error: Error) => {
    stopped ??= error;
    for (const call of pending.values()) call.reject(stopped);
    pending.clear();
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', (message: Ready) => {
      if (message.op === 'ready') resolve();
      else reject(new PgliteWorkerOpenError(deserializeError(message.error)));
    });
    worker.once('exit', (code) => reject(new PgliteWorkerExitedError(code, undefined)));
    worker.once('error', (error) => reject(new PgliteWorkerExitedError(undefined, error)));
  });
  // An 'error' event with no listener would end the store's process: the worker's
  // uncaught errors are reported as the exit below.
  let crash: unknown;
  worker.on('error', (error) => {
    crash = error;
  });
  worker.on('exit', (code) => {
    if (!stopped) fail(new PgliteWorkerExitedError(code, crash));
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  worker.on('message', (reply: Reply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.ok) call.resolve(reply.value);
    else call.reject(deserializeError(reply.error));
  });
  // Idle, the worker does not keep the process alive; a call in flight does, like a
  // query on a socket would.
  worker.unref();

  /** Posts `request`; `sent` runs once it is on its way (not when it could not be copied). */
  const send = <T>(request: Unnumbered<Request>, sent?: () => void): Promise<T> => {
    if (stopped) return Promise.reject(stopped);
    const id = ++lastId;
    try {
      worker.postMessage({ ...request, id });
    } catch (error) {
      // A parameter structured clone cannot copy (a function, a symbol): nothing was sent.
      return Promise.reject(
        new TypeError(`a statement parameter cannot be sent to PGlite: ${String(error)}`),
      );
    }
    sent?.();
    if (pending.size === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
  };

  let lastTransaction = 0;

  return {
    kind: 'pglite',
    query: <Row>(sql: string, params: readonly unknown[] = []) =>
      send<Row[]>({ op: 'query', sql, params }),
    exec: async (sql: string) => {
      await send<void>({ op: 'exec', sql });
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      if (stopped) throw stopped;
      const tx = ++lastTransaction;
      // Nothing is sent to begin: the first statement carries `begin` (the worker runs
      // BEGIN with it), and a transaction that ran no statement has nothing to end.
      let state = 'new' as 'new' | 'begun' | 'over';
      const inTransaction = <T>(request: Statement): Promise<T> => {
        // What PGlite itself says when a finished transaction's handle is used again.
        if (state === 'over') return Promise.reject(new Error('Transaction is closed'));
        if (state === 'begun') return send<T>({ ...request, tx });
        return send<T>({ ...request, tx, begin: true }, () => {
          state = 'begun';
        });
      };
      const handle: Queryable = {
        query: <Row>(sql: string, params: readonly unknown[] = []) =>
          inTransaction<Row[]>({ op: 'query', sql, params }),
        exec: async (sql: string) => {
          await inTransaction<void>({ op: 'exec', sql });
        },
      };
      let result: T;
      try {
        result = await work(handle);
      } catch (error) {
        const begun = state === 'begun';
        state = 'over';
        // The worker rolls back; if it is gone, so is the transaction.
        if (begun) await send({ op: 'end', tx, commit: false }).catch(() => undefined);
        throw error;
      }
      const begun = state === 'begun';
      state = 'over';
      if (begun) await send({ op: 'end', tx, commit: true });
      return result;
    },
    close() {
      closing ??= (async () => {
        try {
          if (!stopped) await send({ op: 'close' });
        } finally {
          fail(new PgliteWorkerClosedError());
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
