import type { Static } from 'typebox';
import { Type } from 'typebox';

const QuotaName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' });
const Seconds = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** One quota of the verifier's ledger: units used in the window starting at `window` (seconds). */
export const LedgerEntry = Type.Object(
  { used: Seconds, window: Seconds },
  { additionalProperties: false },
);

/**
 * The verifier's usage report (packages/verifier UsageReport): cumulative use per quota
 * in the current window of each, as the app's ledger counts it.
 */
export const UsageReport = Type.Object(
  {
    license: Type.String({ minLength: 1, maxLength: 128 }),
    product: Type.String({ minLength: 1, maxLength: 128 }),
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    generatedAt: Seconds,
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    quotas: Type.Record(QuotaName, LedgerEntry, { maxProperties: 32, additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type UsageReport = Static<typeof UsageReport>;

/** A report signed by the device key: compact JWS, typ lic-usage+jwt. */
export const SignedUsageReport = Type.Object(
  { signed: Type.String({ minLength: 1, maxLength: 16_384 }) },
  { additionalProperties: false },
);

export const UsageReportBody = Type.Union([SignedUsageReport, UsageReport]);

export const UsageReportAccepted = Type.Object({
  license: Type.String(),
  /** Quotas whose counts were recorded. */
  accepted: Type.Array(Type.String()),
  /** Quotas the license's plan does not have, or windows in the future: not recorded. */
  ignored: Type.Array(Type.String()),
});

export const QuotaState = Type.Object({
  /** null when unlimited. */
  limit: Type.Union([Type.Integer(), Type.Null()]),
  unlimited: Type.Boolean(),
  /** Sum over the license's devices plus what the store counted (downloads). */
  used: Type.Integer(),
  /** null when unlimited. */
  remaining: Type.Union([Type.Integer(), Type.Null()]),
  /**
   * How far `used` is past the limit (used − limit; 0 within it; null when unlimited).
   * Apps count offline, so their reports can take use past the limit: the store records
   * the real count and shows the excess here rather than hiding it behind remaining 0.
   */
  overuse: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  windowStart: Type.String({ format: 'date-time' }),
  /** When the window resets; null when it never does within the term. */
  resetsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type QuotaState = Static<typeof QuotaState>;

export const QuotasResponse = Type.Object({
  license: Type.String(),
  quotas: Type.Record(Type.String(), QuotaState),
});
