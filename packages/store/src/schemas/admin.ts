import { Type } from 'typebox';
import { Identifier, Money, QuotaSpec } from './common.js';
import { ADMIN_TOKEN, DATABASE, EVERY_OPERATION, JSON_BODY, VALIDATED } from './error-responses.js';

/** Schemas of the admin API (routes/admin). Dates are ISO strings. */

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

/**
 * Error specs every admin route has (401 without the admin token, before anything else),
 * for `errorResponses(...ADMIN_ROUTE, …)`; routes with a path, query or body add theirs.
 */
export const ADMIN_ROUTE = [EVERY_OPERATION, DATABASE, ADMIN_TOKEN] as const;
/** An admin route with a path or query schema. */
export const ADMIN_VALIDATED = [...ADMIN_ROUTE, VALIDATED] as const;
/**
 * An admin POST or DELETE: Fastify reads a body of these methods and the admin plugin
 * takes JSON only, so even a route without a body schema answers 413, 415 and 400 for a
 * body it cannot take.
 */
export const ADMIN_WRITE = [...ADMIN_ROUTE, JSON_BODY] as const;

/**
 * Query strings arrive as text and the store's validator never coerces types, so numbers
 * in them are patterns here and parsed in the route (`pageLimit`).
 */
export const LimitQuery = Type.String({ pattern: '^(?:[1-9][0-9]?|1[0-9][0-9]|200)$' });

export function pageLimit(limit: string | undefined, fallback = 50): number {
  return limit === undefined ? fallback : Number(limit);
}

export const PageQuery = {
  limit: Type.Optional(LimitQuery),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
};

export const LicenseId = Type.String({ pattern: '^lic_[A-Za-z0-9_-]{1,64}$' });
export const OrderId = Type.String({ pattern: '^ord_[A-Za-z0-9_-]{1,64}$' });

export const AdminPlan = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Money,
  interval: Type.String(),
  termDays: Type.Union([Type.Integer(), Type.Null()]),
  trialDays: Type.Integer(),
  perSeat: Type.Boolean(),
  seats: Type.Integer(),
  quotas: Type.Record(Type.String(), QuotaSpec),
  entitlements: Type.Array(Type.String()),
  graceDays: Type.Integer(),
  position: Type.Integer(),
  active: Type.Boolean(),
  yearlyOf: Type.Optional(Type.String()),
});

export const AdminProduct = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  plans: Type.Array(AdminPlan),
});

export const ProductParams = Type.Object({ productId: Identifier });
export const PlanParams = Type.Object({ productId: Identifier, planId: Identifier });

export const AdminOrder = Type.Object({
  id: Type.String(),
  customerId: Type.String(),
  customerEmail: Type.String(),
  productId: Type.String(),
  planId: Type.String(),
  licenseId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  seats: Type.Integer(),
  amount: Money,
  provider: Type.String(),
  providerRef: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  test: Type.Boolean(),
  createdAt: DateTime,
  paidAt: NullableDateTime,
  details: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'What the order was priced from: for a plan change fromPlan, fromSeats and the new period (periodStart, periodEnd, anchor).',
  }),
});

export const OrderStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('paid'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
  Type.Literal('refunded'),
]);

export const LicenseStatus = Type.Union(
  ['pending', 'trialing', 'active', 'past_due', 'cancelled', 'expired', 'revoked'].map((s) =>
    Type.Literal(s),
  ),
);

export const AdminLicense = Type.Object({
  id: Type.String(),
  customerId: Type.String(),
  customerEmail: Type.String(),
  productId: Type.String(),
  planId: Type.String(),
  /** The last characters of the key, to tell keys apart; never the key. */
  keyHint: Type.String(),
  status: Type.String(),
  seats: Type.Integer(),
  anchor: DateTime,
  periodStart: DateTime,
  periodEnd: NullableDateTime,
  trialEnd: NullableDateTime,
  pendingChange: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  seq: Type.Integer(),
  test: Type.Boolean(),
  createdAt: DateTime,
  cancelledAt: NullableDateTime,
  revokedAt: NullableDateTime,
});

export const AdminLicenseDetail = Type.Object({
  license: AdminLicense,
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      thumbprint: Type.String(),
      name: Type.String(),
      activatedAt: DateTime,
      lastSeenAt: NullableDateTime,
      deactivatedAt: NullableDateTime,
    }),
  ),
  tokens: Type.Object({ issued: Type.Integer(), lastIssuedAt: NullableDateTime }),
  quotas: Type.Record(Type.String(), Type.Unknown()),
});

export const RevokeBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

export const RevocationKind = Type.Union([
  Type.Literal('key'),
  Type.Literal('license'),
  Type.Literal('token'),
]);

export const RevocationInput = Type.Object(
  {
    kind: RevocationKind,
    value: Type.String({ minLength: 1, maxLength: 128 }),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const Revocation = Type.Object({
  kind: Type.String(),
  value: Type.String(),
  reason: Type.String(),
  createdAt: DateTime,
});

export const RevocationListInfo = Type.Object({
  seq: Type.Integer(),
  source: Type.String(),
  issuedAt: DateTime,
});

export const AttachmentId = Type.String({ pattern: '^att_[A-Za-z0-9_-]{22}$' });

export const AdminAttachment = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  name: Type.String(),
  path: Type.String(),
  size: Type.Integer(),
  contentType: Type.String(),
  quota: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
});

const FileName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^/\\\\\\u0000-\\u001f\\u007f]+$',
});
const ContentType = Type.String({
  maxLength: 200,
  pattern: '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$',
});
const QuotaName = Type.Union([
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' }),
  Type.Null(),
]);

export const RegisterAttachmentInput = Type.Object(
  {
    productId: Identifier,
    name: FileName,
    /** A file inside dataDir/files, relative to it. */
    path: Type.String({ minLength: 1, maxLength: 1024 }),
    contentType: Type.Optional(ContentType),
    quota: Type.Optional(QuotaName),
  },
  { additionalProperties: false },
);

export const UploadAttachmentQuery = Type.Object(
  {
    productId: Identifier,
    name: FileName,
    contentType: Type.Optional(ContentType),
    quota: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' })),
  },
  { additionalProperties: false },
);
