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

/** Error responses every authenticated license route can give (503: the database is down). */
export const licenseErrors = {
  400: ErrorResponse,
  401: ErrorResponse,
  402: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  429: ErrorResponse,
  500: ErrorResponse,
  503: ErrorResponse,
} as const;
