import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptJsonOnly } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import {
  CheckoutBody,
  CheckoutResponse,
  checkoutSchemaErrors,
  IdempotencyHeaders,
} from '../../schemas/checkout.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  JSON_BODY,
  SIGNS_TOKENS,
} from '../../schemas/error-responses.js';
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
      // The Idempotency-Key is required in the schema (so the document says so); its
      // absence keeps the code IDEMPOTENCY_KEY_REQUIRED.
      schemaErrorFormatter: checkoutSchemaErrors,
      schema: {
        tags: ['licensing'],
        summary: 'Buy a plan (or start its trial): order, license, license key, first token',
        description:
          'Requires an Idempotency-Key header: the same key and request replay the same response; the same key with another request is 409. The license key is in this response only.',
        headers: IdempotencyHeaders,
        body: CheckoutBody,
        response: {
          201: CheckoutResponse,
          ...errorResponses(EVERY_OPERATION, JSON_BODY, DATABASE, SIGNS_TOKENS, {
            400: ['IDEMPOTENCY_KEY_REQUIRED'],
            402: ['PAYMENT_REQUIRED'],
            404: ['PRODUCT_NOT_FOUND', 'PLAN_NOT_FOUND'],
            409: ['IDEMPOTENCY_CONFLICT', 'TRIAL_USED', 'BILLING_CYCLE_NOT_OFFERED'],
            502: ['PAYMENT_PROVIDER_UNAVAILABLE'],
          }),
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
