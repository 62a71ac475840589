import type { Static } from 'typebox';
import { Type } from 'typebox';
import { Identifier } from './common.js';

export const TokenFormat = Type.Union([Type.Literal('jwt'), Type.Literal('cwt')], {
  description: 'Token encoding: cwt (default, compact) or jwt.',
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
  },
  { additionalProperties: false },
);
export type CheckoutBody = Static<typeof CheckoutBody>;

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })),
});

export const OrderView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  /** Minor units. */
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  test: Type.Boolean(),
});

export const CheckoutResponse = Type.Object({
  order: OrderView,
  license: Type.Object({
    id: Type.String(),
    key: Type.String({ description: 'Shown in this response only.' }),
    status: Type.String(),
    test: Type.Boolean(),
    token: Type.Optional(Type.String()),
  }),
  test: Type.Boolean(),
});
