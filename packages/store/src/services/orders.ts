import type { Queryable } from '../db/client.js';
import { newId } from '../lib/ids.js';
import { bookPaidOrder } from '../marketplace/bookkeeping.js';
import { manualProvider } from '../payments/manual.js';
import type { PaymentProvider } from '../payments/provider.js';
import { paymentProvider } from '../payments/provider.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import type { OrderDetails, OrderKind, OrderRecord } from '../repositories/orders.js';
import { ordersRepository } from '../repositories/orders.js';
import type { Plan } from '../schemas/catalogue.js';
import type { StoreContext } from './context.js';
import { emitEvent } from './events.js';
import { licenseEventData } from './licensing.js';

/** Orders: created for every charge (purchase, trial, upgrade, seats, renewal) and settled. */

export interface PlaceOrder {
  license: Pick<LicenseRecord, 'id' | 'customerId' | 'productId'>;
  plan: Plan;
  kind: OrderKind;
  seats: number;
  amount: number;
  provider: PaymentProvider;
  details?: OrderDetails;
  now: Date;
}

/**
 * Records an order and charges it through its provider, in the caller's transaction.
 * Nothing to charge (trials, free plans, a zero proration) is paid at once without asking
 * the provider; otherwise the order ends `paid`, `pending` (with the provider's reference)
 * or `failed`.
 */
export async function placeOrder(
  tx: Queryable,
  ctx: StoreContext,
  input: PlaceOrder,
): Promise<OrderRecord> {
  const orders = ordersRepository(tx);
  const order = await orders.insert({
    id: newId('ord'),
    customerId: input.license.customerId,
    productId: input.license.productId,
    planId: input.plan.id,
    licenseId: input.license.id,
    kind: input.kind,
    seats: input.seats,
    amount: input.amount,
    currency: input.plan.price.currency,
    provider: input.provider.name,
    test: input.provider.test,
    details: input.details ?? {},
    createdAt: input.now,
  });
  if (input.amount === 0) return orders.settle(order.id, { status: 'paid', at: input.now });
  const outcome = await input.provider.charge({
    orderId: order.id,
    licenseId: input.license.id,
    customerId: input.license.customerId,
    kind: input.kind,
    amount: input.amount,
    currency: order.currency,
    description: `${input.license.productId} ${input.plan.name} (${input.kind})`,
  });
  if (outcome.status === 'failed') {
    return orders.settle(order.id, { status: 'failed', at: input.now });
  }
  const settled = await orders.settle(order.id, {
    status: outcome.status,
    providerRef: outcome.reference,
    at: input.now,
  });
  // Paid at once (the test provider, a processor that charges synchronously): booked now.
  await bookPaidOrder(tx, ctx, settled);
  return settled;
}

/** The provider a license charges through: the one it was bought with (manual if gone). */
export async function licenseProvider(
  tx: Queryable,
  ctx: StoreContext,
  licenseId: string,
): Promise<PaymentProvider> {
  const name = await ordersRepository(tx).providerOfLicense(licenseId);
  return (name && paymentProvider(ctx.config, name)) || manualProvider;
}

/**
 * license.payment_failed: the provider refused an order that stays on the books (a renewal
 * charged at the period end, or a processor's `order.failed`); the customer is mailed too.
 * A checkout or a plan change whose charge fails at once rolls back instead, and says so
 * in its answer.
 */
export async function emitPaymentFailed(
  tx: Queryable,
  license: LicenseRecord,
  order: OrderRecord,
  now: Date,
): Promise<void> {
  await emitEvent(
    tx,
    'license.payment_failed',
    licenseEventData(license, {
      orderId: order.id,
      orderKind: order.kind,
      amount: order.amount,
      currency: order.currency,
    }),
    now,
  );
}
