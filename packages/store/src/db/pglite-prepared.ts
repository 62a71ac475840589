/**
 * Named (prepared) statements on PGlite, for the store's `query`.
 *
 * PGlite's own `query()` sends Parse, Describe, Bind, Describe, Execute and Sync as six
 * separate calls into its WebAssembly executor, with an unnamed statement: PostgreSQL
 * parses, analyses and plans the text anew every time. Here a text is parsed and described
 * once, as a named statement; each later call is one Bind + Execute + Sync, one call into
 * the executor, and the plan is PostgreSQL's cached one. On the refresh's two statements
 * that is about a third of the executor's time per refresh (BENCHMARKS.md).
 *
 * Semantics are PGlite's own `query()`: the same transaction and query mutexes (a
 * statement outside a transaction waits for the open one), the same parameter serializers
 * and row parsers, errors as PGlite's DatabaseError with the statement's text, `params`
 * and `queryOptions` attached as PGlite attaches them, and a file-system sync after a
 * statement outside a transaction.
 *
 * The worker thread also runs its transactions here (`queryHeld`, `execHeld`, `end`): it
 * holds PGlite's transaction mutex itself rather than through PGlite's `transaction()`, so
 * BEGIN travels in the same executor call as the transaction's first statement, and
 * COMMIT or ROLLBACK is one executor call (PGlite's `transaction()` runs each of BEGIN and
 * COMMIT through its whole `exec` path, two executor calls and a parse of the results).
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { protocol, TransactionAbortedError, types } from '@electric-sql/pglite';

/** Distinct texts given a name; past this, statements go through PGlite's own query(). */
export const PREPARED_LIMIT = 512;

interface Statement {
  name: string;
  /** The parameters' types as PostgreSQL inferred them (ParameterDescription). */
  paramTypes: number[];
  /** The result's columns (RowDescription); empty for a statement without rows. */
  columns: { name: string; type: number }[];
}

interface BackendMessage {
  name: string;
}
interface ParameterDescription extends BackendMessage {
  dataTypeIDs: number[];
}
interface RowDescription extends BackendMessage {
  fields: { name: string; dataTypeID: number }[];
}
interface DataRow extends BackendMessage {
  fields: (string | null)[];
}
interface CommandComplete extends BackendMessage {
  /** The command tag: 'COMMIT', or 'ROLLBACK' when COMMIT ended an aborted transaction. */
  text: string;
}

const serialize = protocol.serialize;
/** A transaction's BEGIN, sent in front of its first statement (simple protocol). */
const BEGIN = serialize.query('BEGIN');
/** The unnamed statement: texts past PREPARED_LIMIT, parsed at each call. */
const UNNAMED = '';

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const message = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    message.set(part, offset);
    offset += part.length;
  }
  return message;
}

/**
 * A cached statement no longer fits: its result's columns changed under it (DDL) or it
 * was deallocated (DEALLOCATE, DISCARD). PostgreSQL raised the error before running it.
 */
function isStale(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === '26000' ||
    (code === '0A000' &&
      typeof message === 'string' &&
      message.includes('cached plan must not change result type'))
  );
}

/** What PGlite's query() attaches to a DatabaseError (makePGliteError). */
function withStatement(
  error: unknown,
  sql: string,
  params: readonly unknown[] | undefined,
): unknown {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    Object.assign(error, { query: sql, params, queryOptions: undefined });
  }
  return error;
}

export interface PreparedStatements {
  /** One statement outside any transaction: waits for an open one, as query() does. */
  query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** One statement inside `tx`, which holds PGlite's transaction mutex. */
  queryIn<Row>(tx: Transaction, sql: string, params: readonly unknown[]): Promise<Row[]>;
  /**
   * One statement in a transaction whose transaction mutex the caller holds itself (no
   * PGlite Transaction). `begin`: the transaction has not begun yet, and BEGIN runs in
   * the same executor call, just before the statement.
   */
  queryHeld<Row>(sql: string, params: readonly unknown[], begin: boolean): Promise<Row[]>;
  /** A script (simple protocol) in such a transaction; `begin` as for queryHeld. */
  execHeld(sql: string, begin: boolean): Promise<void>;
  /**
   * Ends such a transaction in one executor call: COMMIT (then the file-system sync, as
   * after a statement outside a transaction) or ROLLBACK. A COMMIT that PostgreSQL
   * answers with ROLLBACK (an error inside left the transaction aborted) throws PGlite's
   * TransactionAbortedError (25P02), as PGlite's `transaction()` does.
   */
  end(commit: boolean): Promise<void>;
}

export function preparedStatements(pglite: PGlite): PreparedStatements {
  const statements = new Map<string, Statement>();
  let lastName = 0;

  const exchange = (parts: Uint8Array[]) =>
    pglite.execProtocolStream(concat(parts), { syncToFs: false }) as Promise<BackendMessage[]>;

  /** Parses and describes `sql`; `before`: messages run first, in the same call. */
  async function prepare(
    sql: string,
    before: readonly Uint8Array[],
    name = `lk_${++lastName}`,
  ): Promise<Statement> {
    const messages = await exchange([
      ...before,
      serialize.parse({ name, text: sql }),
      serialize.describe({ type: 'S', name }),
      serialize.sync(),
    ]);
    const parameters = messages.find(
      (message): message is ParameterDescription => message.name === 'parameterDescription',
    );
    const row = messages.find(
      (message): message is RowDescription => message.name === 'rowDescription',
    );
    return {
      name,
      paramTypes: parameters?.dataTypeIDs ?? [],
      columns: row?.fields.map((field) => ({ name: field.name, type: field.dataTypeID })) ?? [],
    };
  }

  async function execute<Row>(
    statement: Statement,
    params: readonly unknown[],
    before: readonly Uint8Array[],
  ): Promise<Row[]> {
    const values = params.map((param, index) => {
      if (param === null || param === undefined) return null;
      const serializer = pglite.serializers[statement.paramTypes[index] ?? -1];
      return serializer ? (serializer(param) as string) : String(param);
    });
    const messages = await exchange([
      ...before,
      serialize.bind({ statement: statement.name, values }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    const rows: Row[] = [];
    const { columns } = statement;
    for (const message of messages) {
      if (message.name !== 'dataRow') continue;
      const { fields } = message as DataRow;
      const row: Record<string, unknown> = {};
      for (let index = 0; index < columns.length; index++) {
        const column = columns[index] as Statement['columns'][number];
        row[column.name] = types.parseType(fields[index] ?? null, column.type, pglite.parsers);
      }
      rows.push(row as Row);
    }
    return rows;
  }

  /**
   * Prepares the text if it is new, then runs it; the caller holds the query mutex.
   * `before` runs in the first executor call (a BEGIN).
   */
  async function run<Row>(
    sql: string,
    params: readonly unknown[],
    before: readonly Uint8Array[] = [],
  ): Promise<Row[]> {
    let statement = statements.get(sql);
    if (!statement) {
      statement = await prepare(sql, before);
      statements.set(sql, statement);
      return execute<Row>(statement, params, []);
    }
    return execute<Row>(statement, params, before);
  }

  /** A text past the limit, as the unnamed statement: parsed and planned at each call. */
  async function runUnnamed<Row>(
    sql: string,
    params: readonly unknown[],
    before: readonly Uint8Array[],
  ): Promise<Row[]> {
    return execute<Row>(await prepare(sql, before, UNNAMED), params, []);
  }

  /** Forgets a statement PostgreSQL no longer runs as it was prepared. */
  async function forget(sql: string): Promise<void> {
    const statement = statements.get(sql);
    if (!statement) return;
    statements.delete(sql);
    await exchange([serialize.close({ type: 'S', name: statement.name }), serialize.sync()]);
  }

  const named = (sql: string) => statements.has(sql) || statements.size < PREPARED_LIMIT;

  return {
    async query<Row>(sql: string, params: readonly unknown[]) {
      if (!named(sql)) return (await pglite.query<Row>(sql, params as unknown[])).rows;
      await pglite._checkReady();
      return pglite._runExclusiveTransaction(() =>
        pglite._runExclusiveQuery(async () => {
          let rows: Row[];
          try {
            rows = await run<Row>(sql, params);
          } catch (error) {
            if (!isStale(error)) throw withStatement(error, sql, params);
            // Outside a transaction the failed attempt changed nothing: prepare it again.
            await forget(sql);
            try {
              rows = await run<Row>(sql, params);
            } catch (again) {
              throw withStatement(again, sql, params);
            }
          }
          await pglite.syncToFs();
          return rows;
        }),
      );
    },
    async queryIn<Row>(tx: Transaction, sql: string, params: readonly unknown[]) {
      // What PGlite's own transaction handle says once the transaction is over.
      if (tx.closed) throw new Error('Transaction is closed');
      if (!named(sql)) return (await tx.query<Row>(sql, params as unknown[])).rows;
      return pglite._runExclusiveQuery(async () => {
        try {
          return await run<Row>(sql, params);
        } catch (error) {
          // The transaction is aborted now; the next call prepares the text again.
          if (isStale(error)) await forget(sql);
          throw withStatement(error, sql, params);
        }
      });
    },
    queryHeld<Row>(sql: string, params: readonly unknown[], begin: boolean) {
      const before = begin ? [BEGIN] : [];
      return pglite._runExclusiveQuery(async () => {
        try {
          return named(sql)
            ? await run<Row>(sql, params, before)
            : await runUnnamed<Row>(sql, params, before);
        } catch (error) {
          // As queryIn: the transaction is aborted; the next call prepares the text again.
          if (isStale(error)) await forget(sql);
          throw withStatement(error, sql, params);
        }
      });
    },
    execHeld(sql: string, begin: boolean) {
      return pglite._runExclusiveQuery(async () => {
        try {
          await exchange([...(begin ? [BEGIN] : []), serialize.query(sql)]);
        } catch (error) {
          throw withStatement(error, sql, undefined);
        }
      });
    },
    async end(commit: boolean) {
      const sql = commit ? 'COMMIT' : 'ROLLBACK';
      const messages = await pglite._runExclusiveQuery(async () => {
        let answer: BackendMessage[] = [];
        let failed = false;
        let failure: unknown;
        try {
          answer = await exchange([serialize.query(sql)]);
        } catch (error) {
          failed = true;
          failure = error;
        }
        // Never hand PGlite on inside a transaction: had the message been skipped (an
        // extended-protocol error waiting for its Sync), the transaction ends here.
        if (pglite.isInTransaction()) {
          await exchange([serialize.sync(), serialize.query('ROLLBACK')]).catch(() => undefined);
        }
        if (failed) throw withStatement(failure, sql, undefined);
        return answer;
      });
      if (!commit) return;
      // PostgreSQL answers COMMIT of an aborted transaction with the tag ROLLBACK.
      const committed = messages.some(
        (message) =>
          message.name === 'commandComplete' && (message as CommandComplete).text === 'COMMIT',
      );
      if (!committed) throw withStatement(new TransactionAbortedError(), sql, undefined);
      await pglite.syncToFs();
    },
  };
}
