import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { seconds } from '../../lib/clock.js';
import { acceptJsonOnly, rawBody } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import { webhookProblem } from '../../payments/webhook.js';
import { OrderView } from '../../schemas/checkout.js';
import { Identifier } from '../../schemas/common.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  JSON_BODY,
  VALIDATED,
} from '../../schemas/error-responses.js';
import { applyPaymentEvent } from '../../services/checkout.js';
import { processorRefund } from '../../services/order-refunds.js';

/**
 * Signed payment webhooks from real processors (payments/webhook.ts): Standard Webhooks
 * signatures with the provider's secret, a 5-minute timestamp tolerance, and each
 * webhook-id processed once.
 */
export default async function paymentWebhookRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);
  const ctx = storeContext(fastify);

  fastify.post(
    '/v1/webhooks/payments/:provider',
    {
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['payments'],
        summary: 'A payment processor reports an order paid, failed, refunded or charged back',
        params: Type.Object({ provider: Identifier }),
        headers: Type.Object({
          'webhook-id': Type.Optional(Type.String({ maxLength: 256 })),
          'webhook-timestamp': Type.Optional(Type.String({ maxLength: 20 })),
          'webhook-signature': Type.Optional(Type.String({ maxLength: 4096 })),
        }),
        body: Type.Object({
          type: Type.String({ minLength: 1, maxLength: 100 }),
          data: Type.Optional(
            Type.Object({
              providerRef: Type.Optional(Type.String({ maxLength: 200 })),
              // order.refunded / order.charged_back: minor units (absent: all that is left),
              // the processor's id of the refund (booked once), and its reason.
              amount: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
              refundRef: Type.Optional(Type.String({ maxLength: 200 })),
              reason: Type.Optional(Type.String({ maxLength: 500 })),
            }),
          ),
        }),
        response: {
          200: Type.Object(
            {
              received: Type.Literal(true),
              duplicate: Type.Boolean(),
              ignored: Type.Boolean(),
              order: Type.Optional(OrderView),
              latePayment: Type.Optional(
                Type.Literal('refund_at_processor', {
                  description:
                    'A payment of an order the store no longer honours (cancelled or failed): recorded on the order, not booked; refund it at the processor. Its later order.refunded is acknowledged.',
                }),
              ),
            },
            {
              description:
                'Acknowledged: applied, a replay of an event already applied (duplicate), a payment of an order no longer honoured (latePayment), or an event type the store ignores.',
            },
          ),
          ...errorResponses(EVERY_OPERATION, VALIDATED, JSON_BODY, DATABASE, {
            401: ['WEBHOOK_SIGNATURE_INVALID'],
            404: ['NOT_FOUND', 'ORDER_NOT_FOUND'],
            409: ['CONFLICT', 'ORDER_NOT_REFUNDABLE', 'REFUND_TOO_LARGE'],
          }),
        },
      },
    },
    async (request) => {
      const { provider } = request.params;
      const secret = Object.hasOwn(ctx.config.licensing.paymentWebhookSecrets, provider)
        ? ctx.config.licensing.paymentWebhookSecrets[provider]
        : undefined;
      if (secret === undefined) throw new StoreError('NOT_FOUND');
      const problem = webhookProblem(
        secret,
        {
          id: request.headers['webhook-id'],
          timestamp: request.headers['webhook-timestamp'],
          signature: request.headers['webhook-signature'],
          body: rawBody(request),
        },
        seconds(ctx.clock.now()),
      );
      if (problem)
        throw new StoreError('WEBHOOK_SIGNATURE_INVALID', `Webhook refused: ${problem}.`);
      const type = request.body.type;
      if (type === 'order.refunded' || type === 'order.charged_back') {
        const data = request.body.data ?? {};
        return {
          received: true as const,
          ...(await processorRefund(
            { ...ctx, revocations: fastify.revocations },
            {
              provider,
              eventId: request.headers['webhook-id']!,
              type,
              kind: type === 'order.refunded' ? 'refund' : 'chargeback',
              providerRef: data.providerRef,
              amount: data.amount,
              refundRef: data.refundRef,
              reason: data.reason,
            },
          )),
        };
      }
      const outcome = await applyPaymentEvent(ctx, {
        provider,
        webhookId: request.headers['webhook-id']!,
        type: request.body.type,
        providerRef: request.body.data?.providerRef,
      });
      return { received: true as const, ...outcome };
    },
  );
}
