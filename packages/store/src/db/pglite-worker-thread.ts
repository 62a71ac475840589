/**
 * The PGlite worker thread: one PGlite instance, driven by the messages of
 * pglite-worker-protocol.ts. Ordering and exclusion are PGlite's own: `query`, `exec` and
 * `transaction` take its transaction mutex, so a statement sent outside a transaction
 * waits for the open one exactly as it does when PGlite runs on the store's thread. The
 * store's thread decides when a transaction ends ('end'); until then the transaction's
 * callback here waits, holding the mutex.
 *
 * Built to dist/db/pglite-worker-thread.js (scripts/build.mjs), which pglite-worker.ts
 * starts: a worker thread runs JavaScript, not the TypeScript sources.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type PreparedStatements, preparedStatements } from './pglite-prepared.js';
import type { Ready, Reply, Request, WorkerStart } from './pglite-worker-protocol.js';
import { serializeError } from './pglite-worker-protocol.js';

if (!parentPort) throw new Error('pglite-worker-thread.js runs as a worker thread only');
const port = parentPort;

/** Thrown into a transaction's callback to make PGlite roll it back. */
const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  tx: Transaction;
  /** Ends the callback: true commits, false rolls back. */
  decide(commit: boolean): void;
  /** Settles once PGlite has committed or rolled back. */
  over: Promise<void>;
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
let lastTransaction = 0;

function transactionOf(tx: number): Transaction {
  const open = transactions.get(tx);
  // What PGlite itself says when a finished transaction's handle is used again.
  if (!open) throw new Error('Transaction is closed');
  return open.tx;
}

function openTransaction(pglite: PGlite, tx: number | undefined): Transaction | PGlite {
  return tx === undefined ? pglite : transactionOf(tx);
}

/** Resolves once the transaction holds PGlite's mutex and BEGIN has run. */
function begin(pglite: PGlite): Promise<number> {
  const id = ++lastTransaction;
  return new Promise<number>((begun, failed) => {
    let decide: (commit: boolean) => void = () => undefined;
    const decision = new Promise<boolean>((resolve) => {
      decide = resolve;
    });
    let started = false;
    const over = pglite
      .transaction(async (tx) => {
        started = true;
        transactions.set(id, { tx, decide, over });
        begun(id);
        if (!(await decision)) throw ROLLBACK;
      })
      .then(
        () => undefined,
        (error: unknown) => {
          if (!started) failed(error);
          if (error !== ROLLBACK) throw error;
        },
      )
      .finally(() => transactions.delete(id));
    // Observed by 'end'; never an unhandled rejection while the store's thread works.
    over.catch(() => undefined);
  });
}

async function end(tx: number, commit: boolean): Promise<void> {
  const open = transactions.get(tx);
  if (!open) throw new Error('Transaction is closed');
  open.decide(commit);
  await open.over;
}

async function run(
  pglite: PGlite,
  statements: PreparedStatements,
  request: Request,
): Promise<unknown> {
  switch (request.op) {
    case 'query':
      return request.tx === undefined
        ? statements.query(request.sql, request.params)
        : statements.queryIn(transactionOf(request.tx), request.sql, request.params);
    case 'exec':
      await openTransaction(pglite, request.tx).exec(request.sql);
      return undefined;
    case 'begin':
      return begin(pglite);
    case 'end':
      return end(request.tx, request.commit);
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
