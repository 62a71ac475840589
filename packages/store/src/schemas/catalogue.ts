import type { Static } from 'typebox';
import { Type } from 'typebox';
import { Identifier, Money, QuotaSpec } from './common.js';

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';

export const Plan = Type.Object({
  id: Identifier,
  productId: Identifier,
  name: Type.String(),
  description: Type.String(),
  /** Per seat when perSeat is true. */
  price: Money,
  interval: Type.Union([Type.Literal('month'), Type.Literal('year'), Type.Literal('once')]),
  /** For 'once' plans: the term in days; null = lifetime. */
  termDays: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  trialDays: Type.Integer({ minimum: 0 }),
  perSeat: Type.Boolean(),
  seats: Type.Integer({ minimum: 1 }),
  quotas: Type.Record(Type.String(), QuotaSpec),
  entitlements: Type.Array(Type.String()),
  graceDays: Type.Integer({ minimum: 0 }),
  free: Type.Boolean(),
  /** On a yearly plan offered beside a monthly one: that monthly plan's id. */
  yearlyOf: Type.Optional(
    Type.String({
      description:
        'This yearly plan is the yearly price of the monthly plan with this id: customers pick the cycle at checkout and may switch (month → year at once, prorated; year → month at the period end).',
    }),
  ),
});
export type Plan = Static<typeof Plan>;

export const Product = Type.Object({
  id: Identifier,
  name: Type.String(),
  description: Type.String(),
  /** The product's page on the storefront. */
  url: Type.String(),
  plans: Type.Array(Plan),
});
export type Product = Static<typeof Product>;

export const PlanInput = Type.Object(
  {
    id: Identifier,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    price: Money,
    interval: Type.Union([Type.Literal('month'), Type.Literal('year'), Type.Literal('once')]),
    termDays: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 36500 }), Type.Null()]),
    ),
    trialDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
    perSeat: Type.Optional(Type.Boolean()),
    seats: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    // Names as the claim model takes them (core claims/checks.ts): a plan that could be
    // sold but never issued is refused here. At most 32 quotas, 64 unique entitlements.
    quotas: Type.Optional(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), QuotaSpec, {
        additionalProperties: false,
        maxProperties: 32,
      }),
    ),
    entitlements: Type.Optional(
      Type.Array(Type.String({ pattern: NAME_PATTERN }), { maxItems: 64, uniqueItems: true }),
    ),
    graceDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
    position: Type.Optional(Type.Integer()),
    yearlyOf: Type.Optional(
      Type.Union([Identifier, Type.Null()], {
        description:
          'On a yearly plan: the id of the monthly plan of this product that it is the yearly price of (same currency, seat model and trial terms are up to you). Absent keeps the current link; null removes it.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PlanInput = Static<typeof PlanInput>;

export const ProductInput = Type.Object(
  {
    id: Identifier,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ProductInput = Static<typeof ProductInput>;
