import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { storeContext } from '../../lib/store-context.js';
import { ADMIN_VALIDATED, ADMIN_WRITE, OrderId } from '../../schemas/admin.js';
import { described } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import { listOrderRefunds, type OrderRefunds } from '../../services/order-refund-list.js';
import { type RefundRequest, refundOrder } from '../../services/order-refunds.js';

const Amount = Type.Integer({
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Minor units (cents).',
});
const Reason = Type.String({ maxLength: 500 });

const RefundAnswer = Type.Object(
  {
    orderId: Type.String(),
    refundId: Type.Union([Type.String(), Type.Null()]),
    kind: Type.Union([Type.Literal('refund'), Type.Literal('chargeback')]),
    amount: Type.Integer({ minimum: 0 }),
    currency: Type.String(),
    provider: Type.String(),
    orderAmount: Type.Integer({ minimum: 0 }),
    refundedTotal: Type.Integer({ minimum: 0 }),
    orderStatus: Type.String(),
    creditNote: Type.Union([Type.String(), Type.Null()]),
    licenseId: Type.Union([Type.String(), Type.Null()]),
    licenseRevoked: Type.Boolean(),
    providerRefund: Type.Union(
      [Type.Literal('sent'), Type.Literal('failed'), Type.Literal('none')],
      {
        description:
          '`sent`: the processor accepted the refund; `failed`: it refused (the refund stays booked: return the money there by hand); `none`: nothing to send (test or manual order, chargeback).',
      },
    ),
    providerRefundError: Type.Optional(Type.String()),
    duplicate: Type.Boolean({
      description: 'A replay of an earlier request with the same Idempotency-Key.',
    }),
  },
  {
    description:
      'The refund as booked (credit note, the order’s refunded total and status) and what the payment processor did.',
  },
);

const RefundRow = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('refund'), Type.Literal('chargeback')]),
  amount: Type.Integer({ minimum: 1 }),
  currency: Type.String(),
  reason: Type.String(),
  source: Type.Union([Type.Literal('admin'), Type.Literal('processor')]),
  actor: Type.String(),
  providerRefund: Type.Union([
    Type.Literal('sent'),
    Type.Literal('failed'),
    Type.Literal('none'),
    Type.Null(),
  ]),
  providerRef: Type.Union([Type.String(), Type.Null()]),
  providerRefundError: Type.Union([Type.String(), Type.Null()]),
  creditNote: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      maxLength: 255,
      description:
        'Recommended: the same key and request answer the first refund again for 24 hours (a retry never refunds twice).',
    }),
  ),
});

function refundsJson(list: OrderRefunds) {
  return {
    ...list,
    refunds: list.refunds.map((refund) => ({
      ...refund,
      createdAt: refund.createdAt.toISOString(),
    })),
  };
}

/**
 * Refunds and chargebacks of an order under /v1/admin (services/order-refunds.ts). Kept
 * apart from routes/admin/orders.ts so the order routes and these change independently.
 */
export default async function refunds(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];
  const security = [{ bearer: [] }];
  const ctx = () => ({ ...storeContext(fastify), revocations: fastify.revocations });
  const refundErrors = errorResponses(...ADMIN_WRITE, {
    404: ['ORDER_NOT_FOUND'],
    409: ['ORDER_NOT_REFUNDABLE', 'REFUND_TOO_LARGE', 'IDEMPOTENCY_CONFLICT'],
  });

  fastify.post(
    '/v1/admin/orders/:orderId/refunds',
    {
      schema: {
        tags,
        summary:
          'Refund an order, whole or in part (books a credit note; the processor returns the money)',
        security,
        params: Type.Object({ orderId: OrderId }),
        headers: IdempotencyKeyHeader,
        body: Type.Object(
          {
            amount: Type.Optional(Amount),
            reason: Reason,
            revokeLicense: Type.Optional(
              Type.Boolean({ description: 'Also revoke the order’s license (default false).' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: RefundAnswer, 200: described(RefundAnswer, 'A replay.'), ...refundErrors },
      },
    },
    async (request, reply) => {
      const body: RefundRequest = {
        amount: request.body.amount,
        kind: 'refund',
        reason: request.body.reason,
        revokeLicense: request.body.revokeLicense ?? false,
        actor: 'admin-api',
        idempotencyKey: request.headers['idempotency-key'],
      };
      const outcome = await refundOrder(ctx(), request.params.orderId, body);
      if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
      reply.code(outcome.duplicate ? 200 : 201);
      return outcome;
    },
  );

  fastify.post(
    '/v1/admin/orders/:orderId/chargebacks',
    {
      schema: {
        tags,
        summary:
          'Book a chargeback (the customer’s bank took the money back): a credit note, no provider refund',
        security,
        params: Type.Object({ orderId: OrderId }),
        headers: IdempotencyKeyHeader,
        body: Type.Object(
          {
            amount: Amount,
            reason: Reason,
            revokeLicense: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: RefundAnswer, 200: described(RefundAnswer, 'A replay.'), ...refundErrors },
      },
    },
    async (request, reply) => {
      const outcome = await refundOrder(ctx(), request.params.orderId, {
        amount: request.body.amount,
        kind: 'chargeback',
        reason: request.body.reason,
        revokeLicense: request.body.revokeLicense ?? false,
        actor: 'admin-api',
        idempotencyKey: request.headers['idempotency-key'],
      });
      if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
      reply.code(outcome.duplicate ? 200 : 201);
      return outcome;
    },
  );

  fastify.get(
    '/v1/admin/orders/:orderId/refunds',
    {
      schema: {
        tags,
        summary: 'An order’s refunds and chargebacks, with what is left to refund',
        security,
        params: Type.Object({ orderId: OrderId }),
        response: {
          200: Type.Object(
            {
              orderId: Type.String(),
              orderAmount: Type.Integer({ minimum: 0 }),
              currency: Type.String(),
              orderStatus: Type.String(),
              refundedTotal: Type.Integer({ minimum: 0 }),
              left: Type.Integer({ minimum: 0 }),
              refunds: Type.Array(RefundRow),
            },
            { description: 'The refunds, oldest first.' },
          ),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['ORDER_NOT_FOUND'] }),
        },
      },
    },
    async (request) => refundsJson(await listOrderRefunds(fastify.db, request.params.orderId)),
  );
}
