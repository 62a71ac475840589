import type { FastifySchemaValidationError } from 'fastify';
import type { Static } from 'typebox';
import { Type } from 'typebox';
import { StoreError } from '../errors.js';
import { Identifier } from './common.js';

export const TokenFormat = Type.Union([Type.Literal('jwt'), Type.Literal('cwt')], {
  description: 'Token encoding: cwt (default, compact) or jwt.',
});

/** A plan offered both ways is bought (or switched) on one of these cycles. */
export const BillingCycle = Type.Union([Type.Literal('month'), Type.Literal('year')], {
  description:
    'month or year: for a plan offered both ways (a yearly plan with `yearlyOf`), the cycle to buy; default the plan’s own. 409 BILLING_CYCLE_NOT_OFFERED when the plan has no price on that cycle.',
});

export const CheckoutBody = Type.Object(
  {
    productId: Identifier,
    planId: Identifier,
    email: Type.String({ minLength: 3, maxLength: 254 }),
    seats: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    provider: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
        description:
          '`test` (default: pays at once, no money moves), `manual`, or a configured processor.',
      }),
    ),
    trial: Type.Optional(Type.Boolean()),
    format: Type.Optional(TokenFormat),
    billingCycle: Type.Optional(BillingCycle),
  },
  { additionalProperties: false },
);
export type CheckoutBody = Static<typeof CheckoutBody>;

/** A checkout without the header is refused (IDEMPOTENCY_KEY_REQUIRED), so it is required. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({
    maxLength: 255,
    description:
      'Any unique string (a UUID): the same key and request replay the same answer for 24 hours.',
  }),
});

/**
 * The checkout's schema error formatter: a missing Idempotency-Key keeps its own code,
 * IDEMPOTENCY_KEY_REQUIRED (as when the header was optional and the service refused it);
 * every other refusal is worded as Fastify words it (`<where><path> <message>`, joined),
 * which the error handler answers as BAD_REQUEST.
 */
export function checkoutSchemaErrors(
  errors: FastifySchemaValidationError[],
  dataVar: string,
): Error {
  const missingKey = errors.some(
    (error) =>
      error.keyword === 'required' &&
      (error.params as { missingProperty?: unknown }).missingProperty === 'idempotency-key',
  );
  if (dataVar === 'headers' && missingKey) return new StoreError('IDEMPOTENCY_KEY_REQUIRED');
  return new Error(
    errors.map((error) => `${dataVar}${error.instancePath} ${error.message}`).join(', '),
  );
}

export const OrderView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  /** Minor units. */
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  test: Type.Boolean(),
});

export const CheckoutResponse = Type.Object(
  {
    order: OrderView,
    license: Type.Object({
      id: Type.String(),
      key: Type.String({ description: 'Shown in this response only.' }),
      status: Type.String(),
      test: Type.Boolean(),
      token: Type.Optional(Type.String()),
    }),
    test: Type.Boolean(),
    checkoutUrl: Type.Optional(
      Type.String({
        description:
          "Where the customer pays, for a processor with its own payment page (Stripe Checkout); present while the order is pending. The order is paid when the processor's webhook says so.",
      }),
    ),
  },
  {
    description:
      'The order, the license with its key (shown in this answer only) and its first token when paid. A replay of the same request answers the same body with `idempotent-replayed: true`.',
    headers: {
      'idempotent-replayed': Type.Literal('true', {
        description: 'Present on a replay of an earlier request with the same key.',
      }),
    },
  },
);
