import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptJsonOnly } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import { CheckoutBody, CheckoutResponse, IdempotencyHeaders } from '../../schemas/checkout.js';
import { ErrorResponse } from '../../schemas/common.js';
import { checkout } from '../../services/checkout.js';

/** Checkout: one purchase (or trial) per Idempotency-Key. */
export default async function checkoutRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);
  const ctx = storeContext(fastify);

  fastify.post(
    '/v1/checkout',
    {
      bodyLimit: 8 * 1024,
      schema: {
        tags: ['licensing'],
        summary: 'Buy a plan (or start its trial): order, license, license key, first token',
        description:
          'Requires an Idempotency-Key header: the same key and request replay the same response; the same key with another request is 409. The license key is in this response only.',
        headers: IdempotencyHeaders,
        body: CheckoutBody,
        response: {
          201: CheckoutResponse,
          400: ErrorResponse,
          402: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
          500: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const result = await checkout(ctx, request.body, request.headers['idempotency-key']);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(result.statusCode as 201).send(result.body);
    },
  );
}
