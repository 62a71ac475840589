/**
 * Named statements on PGlite (pglite-prepared.ts): a cached statement that no longer fits
 * the schema, or that was deallocated, is prepared again rather than failing for ever.
 * Answers, errors and transactions are covered for both placements by
 * pglite-worker.test.ts and the store's whole suite.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Db } from './client.js';
import { openPglite } from './client.js';

let db: Db;
beforeAll(async () => {
  db = await openPglite();
  await db.exec('CREATE TABLE things (id integer PRIMARY KEY)');
  await db.query('INSERT INTO things VALUES ($1)', [1]);
});
afterAll(async () => {
  await db?.close();
});

test('outside a transaction, a statement whose columns changed is prepared again', async () => {
  expect(await db.query('SELECT * FROM things')).toEqual([{ id: 1 }]);
  await db.exec("ALTER TABLE things ADD COLUMN name text NOT NULL DEFAULT 'one'");
  expect(await db.query('SELECT * FROM things')).toEqual([{ id: 1, name: 'one' }]);
});

test('inside a transaction it fails once (the transaction is aborted), then works', async () => {
  expect(await db.query('SELECT * FROM things WHERE id = $1', [1])).toHaveLength(1);
  await db.exec('ALTER TABLE things ADD COLUMN size integer');
  await expect(
    db.transaction((tx) => tx.query('SELECT * FROM things WHERE id = $1', [1])),
  ).rejects.toMatchObject({ code: '0A000', query: 'SELECT * FROM things WHERE id = $1' });
  expect(await db.transaction((tx) => tx.query('SELECT * FROM things WHERE id = $1', [1]))).toEqual(
    [{ id: 1, name: 'one', size: null }],
  );
});

test('DEALLOCATE ALL: the next call prepares again', async () => {
  expect(await db.query('SELECT id FROM things')).toEqual([{ id: 1 }]);
  await db.exec('DEALLOCATE ALL');
  expect(await db.query('SELECT id FROM things')).toEqual([{ id: 1 }]);
});
