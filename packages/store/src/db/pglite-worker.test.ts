/**
 * PGlite in a worker thread (pglite-worker.ts): the same answers as PGlite on the calling
 * thread for every value type the store uses, PGlite's transaction semantics, errors with
 * their fields, close, and a worker that dies with calls in flight.
 */
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../config.js';
import type { Db } from './client.js';
import { DatabaseOpenError, isDatabaseUnavailable, isStorageFull, openPglite } from './client.js';
import { PREPARED_LIMIT } from './pglite-prepared.js';
import {
  openPgliteWorker,
  PgliteWorkerClosedError,
  PgliteWorkerExitedError,
} from './pglite-worker.js';
import { deserializeError, serializeError } from './pglite-worker-protocol.js';

const scratch = mkdtempSync(join(tmpdir(), 'licensekit-pglite-worker-'));
// This file compares both placements, so LICENSEKIT_PGLITE_WORKER (which overrides the
// `worker` option) must not decide them here.
const forced = process.env.LICENSEKIT_PGLITE_WORKER;
beforeAll(() => {
  delete process.env.LICENSEKIT_PGLITE_WORKER;
});
afterAll(() => {
  if (forced !== undefined) process.env.LICENSEKIT_PGLITE_WORKER = forced;
  rmSync(scratch, { recursive: true, force: true });
});

/** Settles `promise` into what happened, for ordering checks without timers. */
function outcome<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Lets every queued message and microtask run (a round trip to the worker and back). */
async function roundTrip(db: Db): Promise<void> {
  await db.query('SELECT 1').catch(() => undefined);
}

describe('values cross the thread boundary as PGlite gives them', () => {
  let inWorker: Db;
  let inThread: Db;
  beforeAll(async () => {
    inWorker = await openPglite({ worker: true });
    inThread = await openPglite({ worker: false });
  });
  afterAll(async () => {
    await inWorker?.close();
    await inThread?.close();
  });

  const STATEMENT =
    'SELECT $1::int8 AS big, $2::bytea AS bytes, $3::timestamptz AS at, $4::jsonb AS doc, $5::text AS text, $6::int4 AS small, $7::boolean AS flag';

  async function answer(db: Db, params: unknown[]) {
    try {
      return { rows: await db.query(STATEMENT, params) };
    } catch (error) {
      return { code: (error as { code?: unknown }).code, message: (error as Error).message };
    }
  }

  test('each type the store uses, and null', async () => {
    const params = [
      2n ** 62n,
      Buffer.from([0, 1, 254, 255]),
      new Date(Date.UTC(2026, 0, 15, 12, 30, 45, 123)),
      { nested: [1, 'two', null, { three: true }] },
      'text',
      -7,
      true,
    ];
    const rows = await inWorker.query<Record<string, unknown>>(STATEMENT, params);
    expect(rows).toEqual(await inThread.query(STATEMENT, params));
    const [row] = rows;
    if (!row) throw new Error('no row');
    expect(row.big).toBe(2n ** 62n);
    expect(row.bytes).toBeInstanceOf(Uint8Array);
    expect([...(row.bytes as Uint8Array)]).toEqual([0, 1, 254, 255]);
    expect(row.at).toBeInstanceOf(Date);
    expect((row.at as Date).getTime()).toBe(Date.UTC(2026, 0, 15, 12, 30, 45, 123));
    const nulls = Array.from({ length: 7 }, () => null);
    expect(await inWorker.query(STATEMENT, nulls)).toEqual([
      { big: null, bytes: null, at: null, doc: null, text: null, small: null, flag: null },
    ]);
  });

  test('any value: the worker answers what the calling thread answers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.uint8Array({ maxLength: 64 }),
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z') }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.string({ maxLength: 40 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.boolean(),
        async (...params) => {
          // jsonb takes text; NUL in text is refused by both, with the same code.
          const values = [...params.slice(0, 3), JSON.stringify(params[3]), ...params.slice(4)];
          expect(await answer(inWorker, values)).toEqual(await answer(inThread, values));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('transactions', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPgliteWorker();
    await db.exec('CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)');
  });
  afterAll(async () => {
    await db?.close();
  });

  test('commit: the rows are there and `work` answers', async () => {
    const answer = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1, $2)', [1, 'one']);
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM items'))[0]?.n;
    });
    expect(answer).toBe(1);
    expect(await db.query('SELECT id, name FROM items')).toEqual([{ id: 1, name: 'one' }]);
  });

  test('an error in `work` rolls back and is rethrown as is', async () => {
    const mine = new Error('work failed');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1, $2)', [2, 'two']);
        throw mine;
      }),
    ).rejects.toBe(mine);
    expect(await db.query('SELECT id FROM items WHERE id = 2')).toEqual([]);
  });

  test("a statement's error inside keeps its code and rolls back", async () => {
    const failure = db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1, $2)', [3, 'three']);
      await tx.query('INSERT INTO items VALUES ($1, $2)', [1, 'again']);
    });
    await expect(failure).rejects.toMatchObject({
      code: '23505',
      constraint: 'items_pkey',
      table: 'items',
    });
    await expect(failure).rejects.toBeInstanceOf(Error);
    expect(await db.query('SELECT id FROM items WHERE id = 3')).toEqual([]);
  });

  test('statements outside wait for the open transaction, then see its result', async () => {
    let outside: ReturnType<typeof outcome<{ name: string }[]>> | undefined;
    let second: ReturnType<typeof outcome<unknown[]>> | undefined;
    let settledWhileOpen: boolean | undefined;
    const answer = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1, $2)', [4, 'four']);
      outside = outcome(db.query<{ name: string }>('SELECT name FROM items WHERE id = 4'));
      second = outcome(db.transaction((next) => next.query('SELECT name FROM items WHERE id = 4')));
      // Sent after both: once its answer is back, the worker has had both for a while.
      await tx.query('SELECT pg_sleep(0.01)');
      await tx.query('UPDATE items SET name = $1 WHERE id = $2', ['FOUR', 4]);
      settledWhileOpen = outside.settled || second.settled;
      return 'done';
    });
    expect(answer).toBe('done');
    expect(settledWhileOpen).toBe(false);
    await roundTrip(db);
    expect(outside).toMatchObject({ settled: true, value: [{ name: 'FOUR' }] });
    expect(second).toMatchObject({ settled: true, value: [{ name: 'FOUR' }] });
  });

  test('many concurrent transactions and statements all complete, one at a time', async () => {
    await db.exec('CREATE TABLE counter (n integer NOT NULL); INSERT INTO counter VALUES (0)');
    const increments = Array.from({ length: 20 }, () =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<{ n: number }>('SELECT n FROM counter');
        await tx.query('UPDATE counter SET n = $1', [(row?.n ?? 0) + 1]);
      }),
    );
    const reads = Array.from({ length: 20 }, () => db.query('SELECT n FROM counter'));
    await Promise.all([...increments, ...reads]);
    // Read-then-write without a lock is only right if the transactions never overlapped.
    expect(await db.query('SELECT n FROM counter')).toEqual([{ n: 20 }]);
  });

  test('a statement that failed inside a caught error: COMMIT rolls back (25P02)', async () => {
    const aborted = db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1, $2)', [5, 'five']);
      await tx.query('SELECT * FROM missing').catch(() => undefined);
      return 'committed?';
    });
    await expect(aborted).rejects.toMatchObject({
      code: '25P02',
      query: 'COMMIT',
      message: 'Transaction was rolled back instead of committed',
    });
    expect(await db.query('SELECT id FROM items WHERE id = 5')).toEqual([]);
  });

  // BEGIN travels with a transaction's first statement (pglite-worker-thread.ts).
  test('the first statement fails: rolled back, and PGlite is free for what follows', async () => {
    const failure = db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1, $2)', [1, 'again']);
    });
    await expect(failure).rejects.toMatchObject({ code: '23505', constraint: 'items_pkey' });
    // Outside a transaction again: this commits on its own, and another transaction runs.
    await db.query('INSERT INTO items VALUES ($1, $2)', [6, 'six']);
    await expect(
      db.transaction(async (tx) => {
        await tx.query('DELETE FROM items WHERE id = $1', [6]);
        throw new Error('keep six');
      }),
    ).rejects.toThrow('keep six');
    expect(await db.query('SELECT name FROM items WHERE id = 6')).toEqual([{ name: 'six' }]);
  });

  test('a first statement refused before PostgreSQL: the next one still runs inside', async () => {
    const mine = new Error('roll back');
    // Prepared already, so that nothing of it reaches PostgreSQL below.
    expect(await db.query('SELECT $1::boolean AS yes', [true])).toEqual([{ yes: true }]);
    const failure = db.transaction(async (tx) => {
      // PGlite's boolean serializer throws: the statement never reached PostgreSQL.
      await expect(tx.query('SELECT $1::boolean AS yes', ['maybe'])).rejects.toThrow('boolean');
      await tx.query('INSERT INTO items VALUES ($1, $2)', [7, 'seven']);
      throw mine;
    });
    await expect(failure).rejects.toBe(mine);
    expect(await db.query('SELECT id FROM items WHERE id = 7')).toEqual([]);
  });

  test('statements of a transaction sent together all run inside it, in order', async () => {
    const outside = outcome(db.query<{ n: number }>('SELECT count(*)::int AS n FROM items'));
    const failure = db.transaction(async (tx) => {
      await Promise.all([
        tx.query('INSERT INTO items VALUES ($1, $2)', [8, 'eight']),
        tx.query('INSERT INTO items VALUES ($1, $2)', [9, 'nine']),
        tx.exec("UPDATE items SET name = 'NINE' WHERE id = 9"),
      ]);
      return tx.query('SELECT name FROM items WHERE id = 9');
    });
    expect(await failure).toEqual([{ name: 'NINE' }]);
    expect(outside.settled).toBe(true);
    await expect(
      db.transaction(async (tx) => {
        await Promise.all([
          tx.exec('DELETE FROM items WHERE id = 8'),
          tx.query('DELETE FROM items WHERE id = $1', [9]),
        ]);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await db.query('SELECT id FROM items WHERE id IN (8, 9) ORDER BY id')).toEqual([
      { id: 8 },
      { id: 9 },
    ]);
  });

  test('exec as the first statement begins the transaction', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.exec(
          "INSERT INTO items VALUES (10, 'ten'); INSERT INTO items VALUES (11, 'eleven')",
        );
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await db.query('SELECT id FROM items WHERE id >= 10')).toEqual([]);
  });

  test('a transaction that runs no statement answers without the worker', async () => {
    expect(await db.transaction(async () => 'nothing sent')).toBe('nothing sent');
  });

  test('a transaction handle used after the transaction is refused', async () => {
    let kept: { query: Db['query'] } | undefined;
    await db.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept?.query('SELECT 1')).rejects.toThrow('Transaction is closed');
  });

  test('exec runs scripts, in and out of a transaction', async () => {
    await db.transaction((tx) => tx.exec('CREATE TABLE a (x int); CREATE TABLE b (y int)'));
    await db.exec('INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)');
    expect(await db.query('SELECT x, y FROM a, b')).toEqual([{ x: 1, y: 2 }]);
  });

  test('a parameter that cannot be copied to the worker is refused, nothing sent', async () => {
    await expect(db.query('SELECT $1::text', [() => 1])).rejects.toBeInstanceOf(TypeError);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    // As a transaction's first statement: the transaction has not begun; the next one begins it.
    await db.transaction(async (tx) => {
      await expect(tx.query('SELECT $1::text', [() => 1])).rejects.toBeInstanceOf(TypeError);
      await tx.query('INSERT INTO items VALUES ($1, $2)', [12, 'twelve']);
    });
    expect(await db.query('SELECT name FROM items WHERE id = 12')).toEqual([{ name: 'twelve' }]);
  });

  test('past the named-statement limit, a transaction parses each text anew and still begins', async () => {
    const fresh = await openPgliteWorker();
    try {
      await fresh.exec('CREATE TABLE t (n integer)');
      for (let n = 0; n < PREPARED_LIMIT; n++) await fresh.query(`SELECT ${n} AS n`);
      await expect(
        fresh.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES ($1)', [1]);
          expect(await tx.query('SELECT n FROM t')).toEqual([{ n: 1 }]);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      await expect(
        fresh.transaction((tx) => tx.query('SELECT * FROM missing WHERE n = $1', [1])),
      ).rejects.toMatchObject({ code: '42P01', query: 'SELECT * FROM missing WHERE n = $1' });
      expect(await fresh.query('SELECT n FROM t')).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe('errors keep the fields the store reads', () => {
  test("PostgreSQL's fields cross; parameters do not", async () => {
    const db = await openPgliteWorker();
    try {
      const error = await db.query('SELECT * FROM missing WHERE id = $1', ['secret-value']).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: '42P01', query: 'SELECT * FROM missing WHERE id = $1' });
      expect((error as { params?: unknown }).params).toBeUndefined();
      expect(JSON.stringify(error)).not.toContain('secret-value');
    } finally {
      await db.close();
    }
  });

  test('a code on the error or its cause survives: storage full, unavailable', () => {
    const full = deserializeError(
      serializeError(
        new Error('write failed', { cause: Object.assign(new Error('disk'), { code: 'ENOSPC' }) }),
      ),
    );
    expect(isStorageFull(full)).toBe(true);
    const pgFull = deserializeError(
      serializeError(Object.assign(new Error('could not extend file'), { code: '53100' })),
    );
    expect(isStorageFull(pgFull)).toBe(true);
    const shutdown = deserializeError(
      serializeError(Object.assign(new Error('terminating'), { code: '57P01' })),
    );
    expect(isDatabaseUnavailable(shutdown)).toBe(true);
    expect(isStorageFull(deserializeError(serializeError('a string')))).toBe(false);
  });
});

describe('a data directory', () => {
  test('survives close and reopen; the lock is held while open, released after', async () => {
    const dataDir = join(scratch, 'persist', 'db');
    const first = await openPglite({ dataDir, worker: true });
    await first.exec('CREATE TABLE kept (v text)');
    await first.query('INSERT INTO kept VALUES ($1)', ['still here']);
    expect(existsSync(`${dataDir}.lock`)).toBe(true);
    await expect(openPglite({ dataDir, worker: true })).rejects.toMatchObject({
      code: 'DATA_DIRECTORY_LOCKED',
    });
    await first.close();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
    const second = await openPglite({ dataDir, worker: true });
    try {
      expect(await second.query('SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    } finally {
      await second.close();
    }
  });

  test('a damaged directory: DatabaseOpenError, and the lock is released', async () => {
    const dataDir = join(scratch, 'damaged', 'db');
    await (await openPglite({ dataDir, worker: true })).close();
    truncateSync(join(dataDir, 'global', 'pg_control'), 100);
    const refused = await openPglite({ dataDir, worker: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DatabaseOpenError);
    expect(refused).toMatchObject({ code: 'DATA_DIRECTORY_DAMAGED', directory: dataDir });
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });
});

describe('close', () => {
  test('waits for statements sent before it, then refuses every call', async () => {
    const db = await openPgliteWorker();
    const before = db.query('SELECT 41 + 1 AS answer');
    const closed = db.close();
    expect(await before).toEqual([{ answer: 42 }]);
    await closed;
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(PgliteWorkerClosedError);
    await expect(db.transaction(async () => 1)).rejects.toBeInstanceOf(PgliteWorkerClosedError);
    // Idempotent.
    await db.close();
  });
});

describe('hostile: the worker dies', () => {
  /**
   * A worker that says it is ready, never answers a statement, and on the statement
   * 'crash' throws (an uncaught error ends a worker) or on 'exit' exits with code 7.
   */
  function hostileScript(): URL {
    const path = join(scratch, 'hostile-worker.mjs');
    writeFileSync(
      path,
      `import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ op: 'ready' });
parentPort.on('message', (request) => {
  if (request.sql === 'crash') throw new Error('the executor aborted');
  if (request.sql === 'exit') process.exit(7);
});
`,
    );
    return pathToFileURL(path);
  }

  test('mid-query: pending and later calls fail with a typed, unavailable error', async () => {
    const db = await openPgliteWorker({ script: hostileScript() });
    const inFlight = outcome(db.query('SELECT pending'));
    const inTransaction = db.transaction((tx) => tx.query('SELECT never answered'));
    const crash = db.query('crash');
    await expect(crash).rejects.toBeInstanceOf(PgliteWorkerExitedError);
    await expect(inTransaction).rejects.toBeInstanceOf(PgliteWorkerExitedError);
    expect(inFlight.settled).toBe(true);
    expect(inFlight.error).toBeInstanceOf(PgliteWorkerExitedError);
    expect(isDatabaseUnavailable(inFlight.error)).toBe(true);
    // What the store logs for a 503 (plugins/errors.ts): the cause's message.
    expect((inFlight.error as Error & { cause?: Error }).cause?.message).toContain(
      'the PGlite worker thread stopped (exit code 1): the executor aborted',
    );
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(PgliteWorkerExitedError);
    await db.close();
  });

  test('an exit names its code', async () => {
    const db = await openPgliteWorker({ script: hostileScript() });
    const error = await db.query('exit').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PgliteWorkerExitedError);
    expect(error).toMatchObject({ exitCode: 7, code: 'DATABASE_UNAVAILABLE' });
    await db.close();
  });

  test('a worker that dies before it is ready: the open fails', async () => {
    const path = join(scratch, 'dies-at-start.mjs');
    writeFileSync(path, `throw new Error('no executor');\n`);
    await expect(openPgliteWorker({ script: pathToFileURL(path) })).rejects.toBeInstanceOf(
      PgliteWorkerExitedError,
    );
  });
});

describe('LICENSEKIT_PGLITE_WORKER', () => {
  test('anything but 1 or 0 is a ConfigurationError, before any database opens', async () => {
    process.env.LICENSEKIT_PGLITE_WORKER = 'yes';
    try {
      await expect(openPglite()).rejects.toThrow(ConfigurationError);
      await expect(openPglite()).rejects.toThrow('must be 1 or 0 (got yes)');
    } finally {
      delete process.env.LICENSEKIT_PGLITE_WORKER;
    }
  });
});
