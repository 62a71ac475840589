import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import { paymentProvider } from '../../payments/provider.js';
import type { AdminOrder } from '../../services/admin.js';
import { getOrder, listOrders } from '../../services/admin.js';
import { listAdminActions } from '../../services/admin-actions.js';
import { resendReceipt } from '../../services/mail-resend.js';
import { listOrderRefunds } from '../../services/order-refund-list.js';
import { refundOrder } from '../../services/order-refunds.js';
import type { OrderFilterValues, RefundFormValues } from '../../views/admin-orders.js';
import {
  ORDER_STATUSES,
  orderPage,
  ordersPage,
  refundable,
  refundConfirmPage,
} from '../../views/admin-orders.js';
import type { FieldError } from '../../views/layout.js';
import type { AdminScope } from './admin.js';
import { signedInFrame } from './admin.js';
import { parseMoneyInput } from './admin-forms.js';
import { noticeOf, readForm, seeOther, sendPage } from './http.js';

/** Ids as the store makes them; anything else is simply not found (no 400 for a typo). */
export const ORDER_ID = /^ord_[A-Za-z0-9_-]{1,64}$/;
export const LICENSE_ID = /^lic_[A-Za-z0-9_-]{1,64}$/;
const PRODUCT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_REASON = 500;

const NOTICES: Record<string, string> = {
  refunded: 'The order is refunded.',
  'refunded-revoked': 'The order is refunded and its license revoked.',
  'refunded-part': 'Part of the order is refunded; the order stays paid.',
  'refunded-part-revoked': 'Part of the order is refunded and its license revoked.',
  'refund-not-sent':
    'The refund is booked, but the payment processor refused it: return the money there by hand (the order’s refunds list says why).',
  'receipt-sent':
    'A copy of the receipt is on its way to the customer (without the key, which the store cannot read; with the way to replace it).',
};

/** Orders: the filtered list, one order, refund (with confirmation), re-send the receipt. */
export default async function adminOrderRoutes(fastify: FastifyInstance, scope: AdminScope) {
  const hidden = { schema: { hide: true } };
  const post = { schema: { hide: true }, bodyLimit: 4 * 1024 };

  async function orderOrThrow(id: string): Promise<AdminOrder> {
    const order = ORDER_ID.test(id) ? await getOrder(fastify.db, id) : undefined;
    if (!order) throw new StoreError('ORDER_NOT_FOUND', 'No order has this id.');
    return order;
  }

  fastify.get(`${scope.base}/orders`, hidden, async (request, reply) => {
    const query = readForm(request.query);
    const filters: OrderFilterValues = {
      status: query.status?.trim() || undefined,
      email: query.email?.trim() || undefined,
      product: query.product?.trim() || undefined,
      license: query.license?.trim() || undefined,
    };
    const errors: FieldError[] = [];
    if (filters.status && !(ORDER_STATUSES as readonly string[]).includes(filters.status))
      errors.push({ field: 'status', message: 'Choose a status from the list.' });
    if (filters.email && (filters.email.length > 320 || !filters.email.includes('@')))
      errors.push({ field: 'email', message: 'Enter an e-mail address, like name@example.com.' });
    if (filters.product && !PRODUCT_ID.test(filters.product))
      errors.push({
        field: 'product',
        message: 'A product id is lower-case letters, digits and dashes.',
      });
    if (filters.license && !LICENSE_ID.test(filters.license))
      errors.push({ field: 'license', message: 'A license id starts with lic_.' });
    const cursor = query.cursor && query.cursor.length <= 200 ? query.cursor : undefined;
    const frame = signedInFrame(request, scope);
    if (errors.length > 0) {
      return sendPage(
        reply,
        400,
        ordersPage(frame, { orders: [], filters, nextCursor: null, errors }),
      );
    }
    const page = await listOrders(fastify.db, {
      status: filters.status,
      customerEmail: filters.email,
      productId: filters.product,
      licenseId: filters.license,
      limit: 50,
      cursor,
    });
    return sendPage(
      reply,
      200,
      ordersPage(frame, { orders: page.items, filters, nextCursor: page.nextCursor, errors }),
    );
  });

  fastify.get<{ Params: { orderId: string } }>(
    `${scope.base}/orders/:orderId`,
    hidden,
    async (request, reply) => {
      const order = await orderOrThrow(request.params.orderId);
      const activity = await listAdminActions(fastify.db, { limit: 50, target: order.id });
      return sendPage(
        reply,
        200,
        orderPage(signedInFrame(request, scope), {
          order,
          activity,
          notice: noticeOf(request.query, NOTICES),
        }),
      );
    },
  );

  /** Whether the order's provider returns the money itself (services/order-refunds.ts). */
  const providerRefunds = (order: AdminOrder) =>
    typeof paymentProvider(fastify.config, order.provider)?.refund === 'function';

  /** A refund needs a paid order with an amount: anything else is a 409 page saying why. */
  function assertRefundable(order: AdminOrder): void {
    if (refundable(order)) return;
    throw new StoreError(
      'CONFLICT',
      order.status === 'refunded'
        ? 'This order is already refunded.'
        : order.status === 'paid'
          ? 'Nothing was charged for this order: there is nothing to refund.'
          : `Only a paid order can be refunded; this one is ${order.status}.`,
    );
  }

  fastify.get<{ Params: { orderId: string } }>(
    `${scope.base}/orders/:orderId/refund`,
    hidden,
    async (request, reply) => {
      const order = await orderOrThrow(request.params.orderId);
      assertRefundable(order);
      // A refunded purchase usually ends the license it bought; a refunded renewal or
      // upgrade usually does not. The operator decides; this is only the default.
      const values: RefundFormValues = {
        reason: '',
        revokeLicense: order.kind === 'purchase',
        amount: '',
      };
      const { left } = await listOrderRefunds(fastify.db, order.id);
      return sendPage(
        reply,
        200,
        refundConfirmPage(signedInFrame(request, scope), {
          order,
          values,
          errors: [],
          left,
          providerRefunds: providerRefunds(order),
        }),
      );
    },
  );

  fastify.post<{ Params: { orderId: string } }>(
    `${scope.base}/orders/:orderId/refund`,
    post,
    async (request, reply) => {
      const order = await orderOrThrow(request.params.orderId);
      const form = readForm(request.body);
      // Only the confirmation page's form says confirm=refund: anything else asks first.
      if (form.confirm !== 'refund')
        return seeOther(reply, `${scope.base}/orders/${order.id}/refund`);
      assertRefundable(order);
      const values: RefundFormValues = {
        reason: (form.reason ?? '').trim(),
        revokeLicense: form.revokeLicense === 'yes',
        amount: (form.amount ?? '').trim().slice(0, 40),
      };
      const { left } = await listOrderRefunds(fastify.db, order.id);
      const errors: FieldError[] = [];
      if (values.reason.length > MAX_REASON)
        errors.push({
          field: 'reason',
          message: `Keep the reason under ${MAX_REASON} characters.`,
        });
      const amount =
        values.amount === '' ? undefined : parseMoneyInput(values.amount, order.amount.currency);
      if (values.amount !== '' && (amount === undefined || amount === 0))
        errors.push({
          field: 'amount',
          message: `Enter an amount like 12.50 in ${order.amount.currency}, or leave it empty to refund everything left.`,
        });
      else if (amount !== undefined && amount > left)
        errors.push({
          field: 'amount',
          message: 'That is more than is left to refund: enter at most the amount left.',
        });
      if (errors.length > 0) {
        return sendPage(
          reply,
          400,
          refundConfirmPage(signedInFrame(request, scope), {
            order,
            values,
            errors,
            left,
            providerRefunds: providerRefunds(order),
          }),
        );
      }
      const outcome = await refundOrder(
        { ...storeContext(fastify), revocations: fastify.revocations },
        order.id,
        {
          amount,
          reason: values.reason,
          revokeLicense: values.revokeLicense,
          actor: scope.actor,
        },
      );
      const part = outcome.orderStatus === 'refunded' ? 'refunded' : 'refunded-part';
      const done =
        outcome.providerRefund === 'failed'
          ? 'refund-not-sent'
          : outcome.licenseRevoked
            ? `${part}-revoked`
            : part;
      return seeOther(reply, `${scope.base}/orders/${order.id}?done=${done}`);
    },
  );

  fastify.post<{ Params: { orderId: string } }>(
    `${scope.base}/orders/:orderId/resend-receipt`,
    post,
    async (request, reply) => {
      const order = await orderOrThrow(request.params.orderId);
      await resendReceipt(storeContext(fastify), order.id, scope.actor);
      return seeOther(reply, `${scope.base}/orders/${order.id}?done=receipt-sent`);
    },
  );
}
