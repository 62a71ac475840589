import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { acceptJsonOnly, rawBody } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import { paymentProvider } from '../../payments/provider.js';
import type { StripeProvider } from '../../payments/stripe.js';
import { applyStripeEvent } from '../../payments/stripe-events.js';
import { OrderView } from '../../schemas/checkout.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  JSON_BODY,
  VALIDATED,
} from '../../schemas/error-responses.js';

/** Stripe's events are larger than the store's own; a few KiB, far below this. */
const STRIPE_EVENT_LIMIT = 256 * 1024;

/**
 * Stripe's webhook endpoint (payments/stripe-events.ts), registered only when Stripe is
 * configured. It sits beside the Standard Webhooks route of other processors
 * (/v1/webhooks/payments/:provider); a static path wins over the parameter, and the
 * configuration keeps `stripe` from naming one of those.
 *
 * The signature is checked over the exact bytes (`stripe.webhooks.constructEvent`) before
 * anything is read or recorded; a refusal is 401 WEBHOOK_SIGNATURE_INVALID, as for every
 * processor. Stripe retries any answer but 2xx, which is what an event that could not be
 * applied (an unknown order, Stripe unreachable while listing refunds) needs.
 */
export default async function stripeWebhookRoutes(instance: FastifyInstance) {
  const provider = paymentProvider(instance.config, 'stripe') as StripeProvider | undefined;
  if (!provider) return;
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);
  const ctx = () => ({ ...storeContext(fastify), revocations: fastify.revocations });

  fastify.post(
    '/v1/webhooks/payments/stripe',
    {
      bodyLimit: STRIPE_EVENT_LIMIT,
      schema: {
        tags: ['payments'],
        summary: 'Stripe reports a Checkout Session, a refund or a dispute',
        description:
          'Verified with the Stripe-Signature header (STRIPE_WEBHOOK_SECRET, 5 minutes of tolerance). Each event id is applied once.',
        headers: Type.Object({
          'stripe-signature': Type.Optional(Type.String({ maxLength: 4096 })),
        }),
        body: Type.Object(
          {
            id: Type.String({ minLength: 1, maxLength: 255 }),
            type: Type.String({ minLength: 1, maxLength: 100 }),
          },
          { description: 'A Stripe Event object, as Stripe sent it.' },
        ),
        response: {
          200: Type.Object(
            {
              received: Type.Literal(true),
              duplicate: Type.Boolean(),
              ignored: Type.Boolean(),
              order: Type.Optional(OrderView),
              latePayment: Type.Optional(
                Type.Union([Type.Literal('refunded'), Type.Literal('already_refunded')], {
                  description:
                    'A payment of an order the store no longer honours (cancelled or failed), given back in full at Stripe.',
                }),
              ),
            },
            {
              description:
                'Acknowledged: applied, a redelivery of an event already applied (duplicate), or an event the store does not act on (ignored).',
            },
          ),
          ...errorResponses(EVERY_OPERATION, VALIDATED, JSON_BODY, DATABASE, {
            401: ['WEBHOOK_SIGNATURE_INVALID'],
            404: ['ORDER_NOT_FOUND'],
            409: ['CONFLICT', 'ORDER_NOT_REFUNDABLE', 'REFUND_TOO_LARGE'],
            502: ['PAYMENT_PROVIDER_UNAVAILABLE'],
          }),
        },
      },
    },
    async (request) => {
      const signature = request.headers['stripe-signature'];
      const event = provider.verifyEvent(
        rawBody(request),
        signature,
        fastify.clock.now().getTime(),
      );
      const outcome = await applyStripeEvent(ctx(), provider, event);
      request.log.info(
        { stripeEvent: event.id, type: event.type, ...outcome, order: outcome.order?.id },
        'stripe event',
      );
      return { received: true as const, ...outcome };
    },
  );
}
