import { Type } from 'typebox';
import { BillingCycle, OrderView, TokenFormat } from './checkout.js';
import { Identifier } from './common.js';
import { LogProofBundle, LogProofFlag } from './log.js';

/** The license key in `Authorization: Bearer …`, and a device proof in `DPoP`. */
export const LicenseHeaders = Type.Object({
  authorization: Type.Optional(Type.String({ maxLength: 200 })),
  dpop: Type.Optional(Type.String({ maxLength: 2048 })),
});

const Thumbprint = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });

export const PublicJwk = Type.Object(
  {
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    kid: Type.Optional(Type.String({ maxLength: 128 })),
    alg: Type.Optional(Type.String({ maxLength: 16 })),
    use: Type.Optional(Type.String({ maxLength: 16 })),
    key_ops: Type.Optional(Type.Array(Type.String({ maxLength: 16 }), { maxItems: 8 })),
    ext: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ActivateBody = Type.Object(
  {
    device: Type.Object(
      { publicJwk: PublicJwk, name: Type.Optional(Type.String({ maxLength: 100 })) },
      { additionalProperties: false },
    ),
    format: Type.Optional(TokenFormat),
    logProof: LogProofFlag,
  },
  { additionalProperties: false },
);

export const DeviceView = Type.Object({
  id: Type.String(),
  thumbprint: Type.String(),
  name: Type.String(),
});

export const ActivateResponse = Type.Object({
  device: DeviceView,
  token: Type.String(),
  test: Type.Boolean(),
  logProof: Type.Optional(LogProofBundle),
});

export const DeactivateBody = Type.Union([
  Type.Object({ deviceId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ thumbprint: Thumbprint }, { additionalProperties: false }),
]);

export const DeactivateResponse = Type.Object({
  device: Type.Object({
    id: Type.String(),
    thumbprint: Type.String(),
    name: Type.String(),
    activatedAt: Type.String(),
    lastSeenAt: Type.Union([Type.String(), Type.Null()]),
    deactivatedAt: Type.Union([Type.String(), Type.Null()]),
  }),
});

export const RefreshBody = Type.Union([
  Type.Object(
    {
      token: Type.String({ minLength: 1, maxLength: 8192 }),
      format: Type.Optional(TokenFormat),
      logProof: LogProofFlag,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      thumbprint: Type.Optional(Thumbprint),
      format: Type.Optional(TokenFormat),
      logProof: LogProofFlag,
    },
    { additionalProperties: false },
  ),
]);

export const TokenResponse = Type.Object({
  token: Type.String(),
  test: Type.Boolean(),
  logProof: Type.Optional(LogProofBundle),
});

export const CurrentTokenQuery = Type.Object(
  {
    format: Type.Optional(TokenFormat),
    logProof: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);

export const CurrentTokenResponse = Type.Object({
  token: Type.String(),
  format: TokenFormat,
  seq: Type.Integer({ minimum: 0 }),
  test: Type.Boolean(),
  logProof: Type.Optional(LogProofBundle),
});

export const PendingChange = Type.Union([
  Type.Object({
    kind: Type.Union([Type.Literal('downgrade'), Type.Literal('cancel'), Type.Literal('seats')]),
    at: Type.String(),
    plan: Type.Optional(Type.String()),
    seats: Type.Optional(Type.Integer()),
  }),
  Type.Null(),
]);

const NullableTime = Type.Union([Type.String(), Type.Null()]);

export const StatusResponse = Type.Object({
  license: Type.String(),
  product: Type.String(),
  status: Type.String(),
  plan: Type.String(),
  planName: Type.String(),
  test: Type.Boolean(),
  keyHint: Type.String(),
  expiresAt: NullableTime,
  graceEndsAt: NullableTime,
  trialEndsAt: NullableTime,
  pendingChange: PendingChange,
  seats: Type.Integer(),
  devicesInUse: Type.Integer(),
});

export const PlanChangeBody = Type.Object(
  {
    planId: Identifier,
    seats: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    confirm: Type.Boolean(),
    format: Type.Optional(TokenFormat),
    billingCycle: Type.Optional(BillingCycle),
  },
  { additionalProperties: false },
);

export const SeatChangeBody = Type.Object(
  {
    seats: Type.Integer({ minimum: 1, maximum: 100_000 }),
    confirm: Type.Boolean(),
    format: Type.Optional(TokenFormat),
  },
  { additionalProperties: false },
);

export const PlanChangeResponse = Type.Object({
  kind: Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade'), Type.Literal('switch')]),
  /** Charged now, minor units. */
  amount: Type.Integer(),
  currency: Type.String(),
  effectiveAt: Type.String(),
  plan: Type.String(),
  seats: Type.Integer(),
  confirmed: Type.Boolean(),
  order: Type.Optional(OrderView),
  pendingChange: PendingChange,
  token: Type.Optional(Type.String()),
  test: Type.Boolean(),
});

export const FormatBody = Type.Object(
  { format: Type.Optional(TokenFormat) },
  { additionalProperties: false },
);

export const CancelResponse = Type.Object({
  status: Type.String(),
  plan: Type.String(),
  pendingChange: PendingChange,
  effectiveAt: Type.String(),
  token: Type.Optional(Type.String()),
  test: Type.Boolean(),
});

export const UndoResponse = Type.Object({
  pendingChange: Type.Null(),
  token: Type.String(),
  test: Type.Boolean(),
});
