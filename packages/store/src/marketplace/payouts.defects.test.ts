import { splitRefund, splitRevenue } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skipping } from '../../../../test/support/skip.js';
import type { Db, Queryable } from '../db/client.js';
import { ManualClock } from '../lib/clock.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { refundOrder } from '../services/order-refunds.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable, testDatabaseKind } from '../testing/harness.js';
import { buy, context, DAY_MS } from '../testing/licensing.js';
import { payoutStatement, runPayouts } from './payouts.js';
import { assignProduct, createVendor } from './vendors.js';

// Wednesday 2026-04-01.
const START = Date.UTC(2026, 3, 1, 12);

/**
 * `db` whose transactions run `between` once, right after their first read of the ledger:
 * another transaction commits there, as a refund booked while a payout run is under way.
 */
function committingAfterFirstLedgerRead(db: Db, between: () => Promise<void>): Db {
  let fired = false;
  const transaction = <T>(work: (tx: Queryable) => Promise<T>): Promise<T> =>
    db.transaction((tx) =>
      work({
        exec: (sql) => tx.exec(sql),
        async query<Row>(sql: string, params?: readonly unknown[]) {
          const rows = await tx.query<Row>(sql, params);
          if (!fired && /FROM ledger_lines/.test(sql)) {
            fired = true;
            await between();
          }
          return rows;
        },
      }),
    );
  return Object.assign(Object.create(db) as Db, { transaction });
}

// PGlite runs one transaction at a time: only PostgreSQL lets a refund commit mid-run.
// PGlite runs one transaction at a time, so a refund cannot commit in the middle of a run
// there: the race exists on PostgreSQL only, which the store-postgres project runs.
const pgliteOnly = testDatabaseKind !== 'postgres';
describe.skipIf(
  postgresUnavailable ||
    skipping(
      'payouts: a refund committed during a run (store project)',
      pgliteOnly ? 'PGlite runs one transaction at a time; store-postgres runs it' : undefined,
    ),
)('a payout run and a refund at the same time', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await buildTestStore({ clock: new ManualClock(START) });
    const catalogue = catalogueRepository(store.db, 'http://store.test');
    await catalogue.upsertProduct({ id: 'racer', name: 'Racer' });
    await catalogue.upsertPlan('racer', {
      id: 'basic',
      name: 'Basic',
      price: { amount: 2000, currency: 'USD' },
      interval: 'month',
      seats: 1,
    });
    await createVendor(store.db, { id: 'raceco', name: 'Race Co', holdDays: 2 }, store.clock.now());
    await assignProduct(store.db, 'racer', 'raceco');
  });
  afterAll(async () => store?.close());

  // The run summed the due lines in one statement and marked them taken in another: a
  // refund line committed in between was marked taken without being subtracted, so the
  // vendor was paid its share of the refund and the refund was never taken back.
  test('a payout pays exactly the lines it takes; a refund booked meanwhile waits for the next run', async () => {
    const { orderId } = await buy(store, { productId: 'racer', planId: 'basic' });
    store.clock.set(START + 7 * DAY_MS);
    const refund = () =>
      refundOrder({ ...context(store), revocations: store.app.revocations }, orderId, {
        amount: 1000,
        reason: 'partial',
        revokeLicense: false,
        actor: 'tester',
      });
    const run = await runPayouts(
      committingAfterFirstLedgerRead(store.db, async () => {
        await refund();
      }),
      { now: store.clock.now(), vendorId: 'raceco' },
    );

    const share = splitRevenue(2000, 7500).vendor;
    expect(run.payouts.map((payout) => payout.amount)).toEqual([share]);
    const statement = await payoutStatement(store.db, run.payouts[0]!.id);
    expect(statement.reduce((sum, line) => sum + line.amount, 0)).toBe(share);

    // The refund's share is taken back by the next run (carried: nothing else is due).
    const taken = splitRefund({
      paid: 2000,
      refundedBefore: 0,
      refund: 1000,
      vendorShareBps: 7500,
    });
    const next = await runPayouts(store.db, { now: store.clock.now(), vendorId: 'raceco' });
    expect(next.payouts).toEqual([]);
    expect(next.carried).toMatchObject([{ vendorId: 'raceco', balance: taken.vendor }]);
  });
});
