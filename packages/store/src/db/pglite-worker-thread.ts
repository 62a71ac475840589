/**
 * The PGlite worker thread: one PGlite instance, driven by the messages of
 * pglite-worker-protocol.ts. Ordering and exclusion are PGlite's own: a statement outside a
 * transaction and a transaction both take PGlite's transaction mutex, so a statement sent
 * outside a transaction waits for the open one exactly as it does when PGlite runs on the
 * store's thread.
 *
 * A transaction holds that mutex from its first statement (the message carries `begin`)
 * until the store's thread ends it ('end'); BEGIN runs in the same executor call as that
 * first statement, and COMMIT or ROLLBACK is one executor call (pglite-prepared.ts). So a
 * transaction costs the store's thread no round trip of its own to begin, and PGlite is
 * held for the fewest round trips: while it is held, every other statement waits.
 *
 * Built to dist/db/pglite-worker-thread.js (scripts/build.mjs), which pglite-worker.ts
 * starts: a worker thread runs JavaScript, not the TypeScript sources.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { type PreparedStatements, preparedStatements } from './pglite-prepared.js';
import type { Ready, Reply, Request, WorkerStart } from './pglite-worker-protocol.js';
import { serializeError } from './pglite-worker-protocol.js';

if (!parentPort) throw new Error('pglite-worker-thread.js runs as a worker thread only');
const port = parentPort;

interface OpenTransaction {
  /** Settles once the transaction holds PGlite's transaction mutex (rejects: it never will). */
  held: Promise<void>;
  /** Hands the mutex on to the next transaction or statement outside. */
  release(): void;
  /** Settles when the transaction's last request so far is done: each waits for the one before. */
  last: Promise<unknown>;
}

const start = workerData as WorkerStart;

async function open(): Promise<PGlite> {
  const db = start.dataDir ? new PGlite(start.dataDir) : new PGlite();
  await db.waitReady;
  return db;
}

// The message listener keeps this thread alive even when opening fails: the opening
// thread reads why, then ends it.
const pglite = await open().catch((error: unknown) => {
  port.postMessage({ op: 'open-failed', error: serializeError(error) } satisfies Ready);
  return undefined;
});
if (pglite) port.postMessage({ op: 'ready' } satisfies Ready);
// Each text parsed and planned once (pglite-prepared.ts).
const statements = pglite && preparedStatements(pglite);

const transactions = new Map<number, OpenTransaction>();
const ignore = () => undefined;

/** Queues for PGlite's transaction mutex (behind the open transaction) and keeps it. */
function hold(pglite: PGlite): OpenTransaction {
  let release: () => void = ignore;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = pglite._checkReady().then(
    () =>
      new Promise<void>((acquired, failed) => {
        pglite
          ._runExclusiveTransaction(() => {
            acquired();
            return released;
          })
          .catch(failed);
      }),
  );
  return { held, release, last: held.catch(ignore) };
}

/**
 * Runs `work` in transaction `tx` once the transaction's requests before it are done and
 * it holds the mutex; `begin` (its first request) queues for the mutex. `work` is told
 * whether PostgreSQL is outside a transaction still: then BEGIN goes with its statement.
 */
function inTransaction<T>(
  pglite: PGlite,
  tx: number,
  begin: boolean,
  work: (begin: boolean) => Promise<T>,
): Promise<T> {
  if (begin) transactions.set(tx, hold(pglite));
  const open = transactions.get(tx);
  // What PGlite itself says when a finished transaction's handle is used again.
  if (!open) return Promise.reject(new Error('Transaction is closed'));
  const result = open.last.then(() => open.held).then(() => work(!pglite.isInTransaction()));
  open.last = result.catch(ignore);
  return result;
}

/**
 * Ends transaction `tx` after its requests before this one: COMMIT or ROLLBACK if it
 * began, then hands the mutex on. Requests for `tx` sent after this are refused.
 */
function end(
  pglite: PGlite,
  statements: PreparedStatements,
  tx: number,
  commit: boolean,
): Promise<void> {
  const open = transactions.get(tx);
  if (!open) return Promise.reject(new Error('Transaction is closed'));
  transactions.delete(tx);
  return open.last
    .then(() => open.held)
    .then(async () => {
      // A first statement that failed before reaching PostgreSQL left nothing to end.
      if (pglite.isInTransaction()) await statements.end(commit);
    })
    .finally(open.release);
}

async function run(
  pglite: PGlite,
  statements: PreparedStatements,
  request: Request,
): Promise<unknown> {
  switch (request.op) {
    case 'query': {
      const { sql, params, tx } = request;
      if (tx === undefined) return statements.query(sql, params);
      return inTransaction(pglite, tx, request.begin === true, (begin) =>
        statements.queryHeld(sql, params, begin),
      );
    }
    case 'exec': {
      const { sql, tx } = request;
      if (tx === undefined) {
        await pglite.exec(sql);
        return undefined;
      }
      return inTransaction(pglite, tx, request.begin === true, (begin) =>
        statements.execHeld(sql, begin),
      );
    }
    case 'end':
      return end(pglite, statements, request.tx, request.commit);
    case 'close':
      await pglite.close();
      return undefined;
  }
}

port.on('message', (request: Request) => {
  if (!pglite || !statements) return;
  run(pglite, statements, request).then(
    (value) => port.postMessage({ id: request.id, ok: true, value } satisfies Reply),
    (error: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: serializeError(error) } satisfies Reply),
  );
});
