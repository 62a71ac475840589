/**
 * The messages between the store's thread and the PGlite worker thread
 * (pglite-worker.ts ↔ pglite-worker-thread.ts). Values cross by structured clone, which
 * keeps every type a store statement sends or reads: bigint, Date, Uint8Array (bytea;
 * a Buffer arrives as a plain Uint8Array, which PGlite takes the same), parsed json,
 * null. Errors do not survive a structured clone with their fields, so they cross as
 * SerializedError and are rebuilt on the other side.
 */

/** What the worker is started with (workerData). */
export interface WorkerStart {
  /** The data directory, already locked by the opening thread; absent: in memory. */
  dataDir?: string;
}

/**
 * Where a statement runs: outside any transaction (no `tx`), or in transaction `tx`, which
 * the store's thread numbers. A transaction's first request carries `begin`: the worker
 * then queues it for PGlite (behind the open transaction) and runs BEGIN with it; there is
 * no message of its own for BEGIN, and a transaction that runs no statement sends nothing.
 */
export type Scope = { tx?: undefined; begin?: undefined } | { tx: number; begin?: true };

export type Request =
  /** One statement. */
  | ({ id: number; op: 'query'; sql: string; params: readonly unknown[] } & Scope)
  /** A multi-statement script. */
  | ({ id: number; op: 'exec'; sql: string } & Scope)
  /** Commits (or rolls back) transaction `tx` after its statements; answers once it is over. */
  | { id: number; op: 'end'; tx: number; commit: boolean }
  /** Closes PGlite once every statement sent before it has run. */
  | { id: number; op: 'close' };

/** A request before send() numbers it. */
export type Unnumbered<R> = R extends unknown ? Omit<R, 'id'> : never;

export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };

/** The worker's first message: PGlite is open, or why it could not open. */
export type Ready = { op: 'ready' } | { op: 'open-failed'; error: SerializedError };

/** An error as data: its name, message, stack, scalar fields and cause. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Own scalar fields: PostgreSQL's code, detail, constraint, table, … */
  fields: Record<string, string | number | boolean | null>;
  cause?: SerializedError;
}

/**
 * Fields never sent across: the statement's parameters (values from requests — key
 * hashes, e-mail addresses — that no caller reads from an error and that a logged error
 * must not carry) and PGlite's options object.
 */
const DROPPED_FIELDS = new Set(['params', 'queryOptions']);
const MAX_CAUSE_DEPTH = 3;

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: String(error), fields: {} };
  }
  const fields: SerializedError['fields'] = {};
  for (const [key, value] of Object.entries(error)) {
    if (DROPPED_FIELDS.has(key)) continue;
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      fields[key] = value;
    }
  }
  // `code` is often a getter or a class field set outside Object.entries' reach.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') fields.code = code;
  const serialized: SerializedError = { name: error.name, message: error.message, fields };
  if (error.stack !== undefined) serialized.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    serialized.cause = serializeError(error.cause, depth + 1);
  }
  return serialized;
}

/**
 * An error raised by PGlite in the worker thread, rebuilt on the store's thread with the
 * fields the store reads (`code` for isStorageFull, isDatabaseUnavailable and the
 * unique-violation checks; `constraint`, `detail`, …) and its cause.
 */
export class PgliteWorkerQueryError extends Error {
  [field: string]: unknown;
  constructor(serialized: SerializedError) {
    super(
      serialized.message,
      serialized.cause === undefined ? undefined : { cause: deserializeError(serialized.cause) },
    );
    Object.assign(this, serialized.fields);
    this.name = serialized.name;
    if (serialized.stack !== undefined) this.stack = serialized.stack;
  }
}

export function deserializeError(serialized: SerializedError): PgliteWorkerQueryError {
  return new PgliteWorkerQueryError(serialized);
}
