import { splitRevenue } from '@licensekit/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StoreError } from '../errors.js';
import { ManualClock } from '../lib/clock.js';
import type { ProviderRefundRequest } from '../payments/provider.js';
import { type PaymentProvider, paymentProviders } from '../payments/provider.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { refundOrder } from '../services/order-refunds.js';
import { redact } from '../services/refund-provider.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy, context, DAY_MS, subscribeToEvents } from '../testing/licensing.js';
import { confirmPayout, runPayouts } from './payouts.js';
import { assignProduct, createVendor } from './vendors.js';

// Wednesday 2026-04-01.
const START = Date.UTC(2026, 3, 1, 12);

describe.skipIf(postgresUnavailable)('partial refunds and chargebacks', () => {
  let store: TestStore;
  const providerCalls: ProviderRefundRequest[] = [];
  let providerFails = false;

  const ctx = () => ({ ...context(store), revocations: store.app.revocations });
  const refund = (orderId: string, request: Partial<Parameters<typeof refundOrder>[2]> = {}) =>
    refundOrder(ctx(), orderId, {
      reason: 'test',
      revokeLicense: false,
      actor: 'tester',
      ...request,
    });

  beforeAll(async () => {
    store = await buildTestStore({ clock: new ManualClock(START) });
    await subscribeToEvents(store);
    // A processor with a refund call, standing in for a real one (Stripe's is its own).
    const fakepay: PaymentProvider = {
      name: 'fakepay',
      test: false,
      async charge() {
        return { status: 'pending' };
      },
      async refund(request) {
        providerCalls.push(request);
        if (providerFails) throw new Error('card_declined: key sk_live_abcdef123456 refused');
        return { reference: `re_${providerCalls.length}` };
      },
    };
    paymentProviders(store.app.config).set('fakepay', fakepay);
  });
  afterAll(async () => store?.close());

  /** A paid order through the test provider, optionally handed to another provider. */
  async function paidOrder(body: Record<string, unknown> = {}, provider?: string) {
    const purchase = await buy(store, body);
    if (provider)
      await store.db.query('UPDATE orders SET provider = $2, provider_ref = $3 WHERE id = $1', [
        purchase.orderId,
        provider,
        `pay_${purchase.orderId}`,
      ]);
    return purchase;
  }

  async function ledgerSumOf(orderId: string): Promise<number> {
    const [row] = await store.db.query<{ total: string | null }>(
      'SELECT SUM(amount_minor) AS total FROM ledger_lines WHERE order_id = $1',
      [orderId],
    );
    return Number(row?.total ?? 0);
  }

  async function creditNoteSeqs(): Promise<number[]> {
    const rows = await store.db.query<{ seq: number }>(
      `SELECT seq FROM invoices WHERE kind = 'credit_note' ORDER BY seq`,
    );
    return rows.map((row) => Number(row.seq));
  }

  test('partial refunds and chargebacks never exceed the paid amount; the ledger balances; credit notes have no gaps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            amount: fc.option(fc.integer({ min: 1, max: 1700 }), { nil: undefined }),
            kind: fc.constantFrom('refund' as const, 'chargeback' as const),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        async (steps) => {
          const { orderId } = await paidOrder();
          const paid = 1500;
          let total = 0;
          for (const step of steps) {
            const left = paid - total;
            const attempt = refund(orderId, step);
            if (left === 0) {
              await expect(attempt).rejects.toMatchObject({ code: 'ORDER_NOT_REFUNDABLE' });
            } else if (step.amount !== undefined && step.amount > left) {
              await expect(attempt).rejects.toMatchObject({ code: 'REFUND_TOO_LARGE' });
            } else {
              const outcome = await attempt;
              const amount = step.amount ?? left;
              total += amount;
              expect(outcome).toMatchObject({
                amount,
                kind: step.kind,
                refundedTotal: total,
                orderStatus: total === paid ? 'refunded' : 'paid',
                duplicate: false,
                providerRefund: 'none',
              });
              expect(outcome.creditNote).toMatch(/-CN-\d{6}$/);
            }
            expect(await ledgerSumOf(orderId)).toBe(0);
          }
          const [order] = await store.db.query<{ status: string }>(
            'SELECT status FROM orders WHERE id = $1',
            [orderId],
          );
          expect(order!.status).toBe(total === paid ? 'refunded' : 'paid');
          // What the vendor's payable line lost is exactly its share of what was refunded.
          const [payable] = await store.db.query<{ total: string }>(
            `SELECT SUM(amount_minor) AS total FROM ledger_lines
              WHERE order_id = $1 AND account = 'vendor_payable'`,
            [orderId],
          );
          // Refunds reverse the share of the cumulative amount (core's split rule), so
          // what the vendor keeps is its share of what was not refunded, exactly.
          expect(0 - Number(payable!.total) + 0).toBe(
            splitRevenue(paid, 7500).vendor - splitRevenue(total, 7500).vendor,
          );
        },
      ),
      { numRuns: 12 },
    );
    const seqs = await creditNoteSeqs();
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
  });

  test('concurrent partial refunds: exactly the allowed ones succeed', async () => {
    const { orderId } = await paidOrder();
    // 1500 paid, 7 requests of 400: three fit (1200), the rest are refused.
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, () => refund(orderId, { amount: 400 })),
    );
    const ok = results.filter((result) => result.status === 'fulfilled');
    expect(ok).toHaveLength(3);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(StoreError);
        expect(result.reason.code).toBe('REFUND_TOO_LARGE');
      }
    }
    const totals = ok.map(
      (result) => (result as PromiseFulfilledResult<{ refundedTotal: number }>).value.refundedTotal,
    );
    expect(totals.sort((a, b) => a - b)).toEqual([400, 800, 1200]);
    expect(await ledgerSumOf(orderId)).toBe(0);
    const seqs = await creditNoteSeqs();
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
  });

  test('each refund is audited and emits order.refunded / order.charged_back', async () => {
    const { orderId, licenseId } = await paidOrder();
    await refund(orderId, { amount: 500, reason: 'late delivery' });
    await refund(orderId, { amount: 1000, kind: 'chargeback', reason: 'disputed' });
    const events = await store.db.query<{
      type: string;
      payload: { data: Record<string, unknown> };
    }>(
      `SELECT type, payload FROM webhook_outbox WHERE payload->'data'->>'orderId' = $1
        ORDER BY created_at, id`,
      [orderId],
    );
    // Both at the same instant (a manual clock): in the order the refunds were made.
    const refundEvents = events
      .filter((event) => event.type.startsWith('order.'))
      .sort((a, b) => Number(a.payload.data.refundedTotal) - Number(b.payload.data.refundedTotal));
    expect(
      refundEvents.map((event) => [event.type, event.payload.data.amount, event.payload.data.full]),
    ).toEqual([
      ['order.refunded', 500, false],
      ['order.charged_back', 1000, true],
    ]);
    expect(refundEvents[1]!.payload.data).toMatchObject({
      licenseId,
      refundedTotal: 1500,
      orderAmount: 1500,
    });
    const actions = await store.db.query<{ action: string; actor: string }>(
      // Same instant (a manual clock): ordered by what each says, not by a random id.
      `SELECT action, actor, detail->>'refundedTotal' AS total FROM admin_actions
        WHERE target = $1 ORDER BY created_at, (detail->>'refundedTotal')::bigint`,
      [orderId],
    );
    expect(actions).toEqual([
      { action: 'order.refunded', actor: 'tester', total: '500' },
      { action: 'order.charged_back', actor: 'tester', total: '1500' },
    ]);
  });

  test('a refund is sent to the provider after commit; a chargeback and a processor report are not', async () => {
    providerCalls.length = 0;
    providerFails = false;
    const { orderId } = await paidOrder({}, 'fakepay');
    const sent = await refund(orderId, { amount: 300, reason: 'goodwill' });
    expect(sent).toMatchObject({ providerRefund: 'sent', amount: 300 });
    expect(providerCalls).toEqual([
      {
        orderId,
        reference: `pay_${orderId}`,
        refundId: sent.refundId,
        amount: 300,
        currency: 'USD',
        reason: 'goodwill',
      },
    ]);
    const [row] = await store.db.query<{ provider_status: string; provider_ref: string }>(
      'SELECT provider_status, provider_ref FROM refunds WHERE id = $1',
      [sent.refundId],
    );
    expect(row).toEqual({ provider_status: 'sent', provider_ref: 're_1' });

    // The processor reports the refund the store sent: recognised by its id, booked once.
    const echo = await refund(orderId, {
      amount: 300,
      processorEvent: {
        provider: 'fakepay',
        eventId: 'evt_1',
        type: 'charge.refunded',
        refundRef: 're_1',
      },
    });
    expect(echo).toMatchObject({ duplicate: true, amount: 0, refundedTotal: 300 });

    // Or by the store's own refund id, carried back in the processor's metadata.
    const byOwnId = await refund(orderId, {
      amount: 300,
      processorEvent: {
        provider: 'fakepay',
        eventId: 'evt_own',
        type: 'charge.refunded',
        storeRefundId: sent.refundId!,
      },
    });
    expect(byOwnId).toMatchObject({ duplicate: true, refundedTotal: 300 });

    const chargeback = await refund(orderId, { amount: 200, kind: 'chargeback' });
    expect(chargeback.providerRefund).toBe('none');
    const reported = await refund(orderId, {
      amount: 100,
      processorEvent: {
        provider: 'fakepay',
        eventId: 'evt_2',
        type: 'charge.refunded',
        refundRef: 're_x',
      },
    });
    expect(reported).toMatchObject({
      duplicate: false,
      providerRefund: 'none',
      refundedTotal: 600,
    });
    // The same event again: nothing.
    const again = await refund(orderId, {
      amount: 100,
      processorEvent: { provider: 'fakepay', eventId: 'evt_2', type: 'charge.refunded' },
    });
    expect(again).toMatchObject({ duplicate: true, refundedTotal: 600 });
    expect(providerCalls).toHaveLength(1);
  });

  test('a provider failure keeps the refund booked and reports it without secrets', async () => {
    providerCalls.length = 0;
    providerFails = true;
    const { orderId } = await paidOrder({}, 'fakepay');
    const logged: unknown[] = [];
    const base = ctx();
    const log = Object.create(base.log) as typeof base.log;
    log.warn = ((...args: unknown[]) => {
      logged.push(args);
    }) as typeof log.warn;
    const outcome = await refundOrder({ ...base, log }, orderId, {
      reason: 'broken',
      revokeLicense: false,
      actor: 'tester',
    });
    providerFails = false;
    expect(outcome).toMatchObject({
      providerRefund: 'failed',
      orderStatus: 'refunded',
      refundedTotal: 1500,
    });
    expect(outcome.providerRefundError).toContain('card_declined');
    expect(outcome.providerRefundError).not.toContain('sk_live_abcdef123456');
    expect(JSON.stringify(logged)).toContain('card_declined');
    expect(JSON.stringify(logged)).not.toContain('sk_live_abcdef123456');
    const [row] = await store.db.query<{ provider_status: string; provider_error: string }>(
      'SELECT provider_status, provider_error FROM refunds WHERE order_id = $1',
      [orderId],
    );
    expect(row!.provider_status).toBe('failed');
    expect(row!.provider_error).not.toContain('sk_live');
  });

  test('refusals: unknown order, unpaid order, bad amounts', async () => {
    await expect(refund('ord_nothing')).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    const { orderId } = await paidOrder();
    for (const amount of [0, -5, 1.5, Number.MAX_SAFE_INTEGER + 1])
      await expect(refund(orderId, { amount })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const free = await buy(store, { planId: 'free' });
    await expect(refund(free.orderId)).rejects.toMatchObject({ code: 'ORDER_NOT_REFUNDABLE' });
  });

  test('a refund after a payout carries a negative balance into the next payout run', async () => {
    const catalogue = catalogueRepository(store.db, 'http://store.test');
    await catalogue.upsertProduct({ id: 'gizmo', name: 'Gizmo' });
    await catalogue.upsertPlan('gizmo', {
      id: 'basic',
      name: 'Basic',
      price: { amount: 2000, currency: 'EUR' },
      interval: 'month',
      seats: 1,
    });
    await createVendor(
      store.db,
      { id: 'gizmoco', name: 'Gizmo Co', holdDays: 2 },
      store.clock.now(),
    );
    await assignProduct(store.db, 'gizmo', 'gizmoco');
    const share = splitRevenue(2000, 7500).vendor;
    const first = await paidOrder({ productId: 'gizmo', planId: 'basic' });

    store.clock.set(store.clock.now().getTime() + 7 * DAY_MS);
    const run1 = await runPayouts(store.db, { now: store.clock.now(), vendorId: 'gizmoco' });
    expect(run1.payouts.map((payout) => payout.amount)).toEqual([share]);
    await confirmPayout(store.db, run1.payouts[0]!.id, {
      reference: 'wire 1',
      now: store.clock.now(),
    });

    // After the payout, most of the order is refunded: the vendor owes its share of it.
    const refunded = await refund(first.orderId, { amount: 1600 });
    const owed = splitRevenue(1600, 7500).vendor;
    const run2 = await runPayouts(store.db, { now: store.clock.now(), vendorId: 'gizmoco' });
    expect(run2.payouts).toEqual([]);
    const [carried] = run2.carried;
    expect(carried).toMatchObject({ vendorId: 'gizmoco', currency: 'EUR' });
    expect(carried!.balance).toBeLessThan(0);
    expect(-carried!.balance).toBe(owed);
    expect(refunded.refundedTotal).toBe(1600);

    // A new sale after the hold: the next payout is its share minus what was carried.
    await paidOrder({ productId: 'gizmo', planId: 'basic' });
    store.clock.set(store.clock.now().getTime() + 7 * DAY_MS);
    const run3 = await runPayouts(store.db, { now: store.clock.now(), vendorId: 'gizmoco' });
    expect(run3.payouts.map((payout) => payout.amount)).toEqual([share + carried!.balance]);
    expect(run3.carried).toEqual([]);
  });
});

describe('processor messages', () => {
  test('credentials in a processor message are masked', () => {
    expect(redact('bad key sk_test_4eC39HqLyjWDarjtT1zdp7dc, whsec_abc and Bearer xyz.123')).toBe(
      'bad key [redacted], [redacted] and Bearer [redacted]',
    );
  });
});
