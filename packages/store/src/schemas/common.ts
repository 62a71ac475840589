import type { TSchema } from 'typebox';
import { Type } from 'typebox';

/** Schemas shared by many routes. Every route declares a response schema per status. */

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String() }),
    checkoutUrl: Type.Optional(Type.String()),
    subscribeUrl: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse' },
);

export const Identifier = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });

export const QuotaSpec = Type.Union([
  Type.Object(
    {
      limit: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
      per: Type.Optional(
        Type.Union([
          Type.Literal('day'),
          Type.Literal('week'),
          Type.Literal('month'),
          Type.Literal('year'),
        ]),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object({ unlimited: Type.Literal(true) }, { additionalProperties: false }),
]);

export const Money = Type.Object({
  /** Integer minor units (cents). */
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
});

/**
 * A response schema with the description the OpenAPI document gives its answer (without
 * one it says "Default Response"). A copy with every property, TypeBox's hidden ones too:
 * shared schemas keep their own description elsewhere.
 */
export function described<Schema extends TSchema>(schema: Schema, description: string): Schema {
  const copy = Object.create(
    Object.getPrototypeOf(schema),
    Object.getOwnPropertyDescriptors(schema),
  ) as Schema & { description: string };
  copy.description = description;
  return copy;
}
