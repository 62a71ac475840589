import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import {
  ADMIN_VALIDATED,
  ADMIN_WRITE,
  AdminOrder,
  OrderId,
  OrderStatus,
  PageQuery,
  pageLimit,
} from '../../schemas/admin.js';
import { described, Identifier } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import type { AdminOrder as Order } from '../../services/admin.js';
import { getOrder, listOrders } from '../../services/admin.js';
import { markOrderPaid } from '../../services/checkout.js';
import { assertOrderInScope, scopedOrderVendor, VENDOR_ACCESS } from './scope.js';

function orderJson(order: Order) {
  return {
    ...order,
    createdAt: order.createdAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
  };
}

/**
 * Orders: list with filters, one order, mark a pending (manual) order paid. A vendor token
 * reads its own orders (booked to it, or unbooked of its products: routes/admin/scope.ts);
 * marking paid (money the store received) is the operator's.
 */
export default async function orders(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];

  fastify.get(
    '/v1/admin/orders',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Orders, newest first',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(OrderStatus),
            productId: Type.Optional(Identifier),
            licenseId: Type.Optional(Type.String({ maxLength: 100 })),
            customerEmail: Type.Optional(Type.String({ maxLength: 320 })),
            provider: Type.Optional(Type.String({ maxLength: 64 })),
            test: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              orders: Type.Array(AdminOrder),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            },
            { description: 'A page of orders; pass `nextCursor` as `cursor` for the next.' },
          ),
          ...errorResponses(...ADMIN_VALIDATED),
        },
      },
    },
    async (request) => {
      const { test, limit, ...filters } = request.query;
      const page = await listOrders(fastify.db, {
        ...filters,
        // A vendor's orders are those booked to it, not every order of its products.
        vendor: scopedOrderVendor(request),
        test: test === undefined ? undefined : test === 'true',
        limit: pageLimit(limit),
      });
      return { orders: page.items.map(orderJson), nextCursor: page.nextCursor };
    },
  );

  fastify.get(
    '/v1/admin/orders/:orderId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'One order',
        security: [{ bearer: [] }],
        params: Type.Object({ orderId: OrderId }),
        response: {
          200: described(AdminOrder, 'The order.'),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['ORDER_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      await assertOrderInScope(request, request.params.orderId);
      const order = await getOrder(fastify.db, request.params.orderId);
      if (!order) throw new StoreError('ORDER_NOT_FOUND');
      return orderJson(order);
    },
  );

  fastify.post(
    '/v1/admin/orders/:orderId/mark-paid',
    {
      schema: {
        tags,
        summary: 'Mark a pending order paid (manual provider: invoices, transfers)',
        security: [{ bearer: [] }],
        params: Type.Object({ orderId: OrderId }),
        response: {
          200: Type.Object(
            {
              order: AdminOrder,
              /** The license the order belongs to, as it is after the payment. */
              license: Type.Union([
                Type.Object({ id: Type.String(), status: Type.String(), test: Type.Boolean() }),
                Type.Null(),
              ]),
              /** False when the order was already paid (nothing changed). */
              changed: Type.Boolean(),
            },
            { description: 'The order, paid, and its license as it is after the payment.' },
          ),
          ...errorResponses(...ADMIN_WRITE, { 404: ['ORDER_NOT_FOUND'], 409: ['CONFLICT'] }),
        },
      },
    },
    async (request) => {
      // The licensing part applies what the order pays for (activates the license of a
      // purchase, ends past-due on a renewal, applies an upgrade) and emits its events.
      const settled = await markOrderPaid(storeContext(fastify), request.params.orderId);
      const order = await getOrder(fastify.db, settled.order.id);
      return { order: orderJson(order!), license: settled.license, changed: settled.changed };
    },
  );
}
