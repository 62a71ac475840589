import { Type } from 'typebox';
import type { ErrorCode } from '../errors.js';
import { ERROR_CODES } from '../errors.js';

/**
 * Error answers as the OpenAPI document shows them: per status, the registered codes an
 * operation can answer with (an `enum` on `error.code`) and, as the response description,
 * each code with its meaning. A route lists its statuses and codes with the building blocks
 * below; `routes/docs.test.ts` provokes them and checks that whatever the store answers is
 * documented for the operation.
 *
 * These schemas also serialise the answers (Fastify compiles response schemas), so they
 * keep every member an error body has: `code` and `message`, and the payment links on 402.
 * An `enum` does not constrain serialisation; it only documents.
 */

/** Per HTTP status, the error codes an operation can answer with. */
export type ErrorSpec = { readonly [status: number]: readonly ErrorCode[] };

/** The TypeScript shape of every error body (the links are only ever set on 402). */
const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.Unsafe<ErrorCode>(Type.String()), message: Type.String() }),
  checkoutUrl: Type.Optional(Type.String()),
  subscribeUrl: Type.Optional(Type.String()),
});
export type ErrorResponseSchema = typeof ErrorBody;

/** Answers that tell the client when to come back. */
const RETRY_AFTER: Record<number, string> = {
  429: 'Seconds until the failed-lookup window lets this client in again.',
  503: 'Seconds to wait before retrying (5 when the database is unreachable).',
};

function errorSchema(status: number, codes: readonly ErrorCode[]): ErrorResponseSchema {
  for (const code of codes) {
    // A code answered with another status than its registered one would be a lie.
    if (ERROR_CODES[code].status !== status)
      throw new Error(`${code} is registered for ${ERROR_CODES[code].status}, not ${status}`);
  }
  const links =
    status === 402
      ? {
          checkoutUrl: Type.Optional(
            Type.String({
              description:
                "Where to pay: for a past-due or pending license the portal's page that pays its overdue renewal or unpaid purchase again (/portal/pay), else the product page with the plan chosen.",
            }),
          ),
          subscribeUrl: Type.Optional(
            Type.String({ description: 'Where to subscribe (the status endpoint gives this).' }),
          ),
        }
      : {};
  const schema = Type.Object(
    {
      error: Type.Object({
        code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...codes] }),
        message: Type.String({ description: 'For people; may differ from the default.' }),
      }),
      ...links,
    },
    {
      description: codes.map((code) => `\`${code}\`: ${ERROR_CODES[code].message}`).join(' '),
    },
  );
  const retryAfter = RETRY_AFTER[status];
  // @fastify/swagger documents a response schema's `headers` as the answer's headers.
  const documented = retryAfter
    ? { ...schema, headers: { 'retry-after': Type.Integer({ description: retryAfter }) } }
    : schema;
  return documented as unknown as ErrorResponseSchema;
}

/** Keys of every spec in a list (a union of their statuses). */
type StatusesOf<Spec> = Spec extends unknown ? keyof Spec : never;

/**
 * The error responses of a route: the specs merged status by status (codes of one status
 * from several specs add up), each status with its own schema.
 */
export function errorResponses<const Specs extends readonly ErrorSpec[]>(
  ...specs: Specs
): { [Status in StatusesOf<Specs[number]> & number]: ErrorResponseSchema } {
  const merged = new Map<number, ErrorCode[]>();
  for (const spec of specs) {
    for (const [status, codes] of Object.entries(spec)) {
      const list = merged.get(Number(status)) ?? [];
      for (const code of codes) if (!list.includes(code)) list.push(code);
      merged.set(Number(status), list);
    }
  }
  return Object.fromEntries(
    [...merged].map(([status, codes]) => [status, errorSchema(status, codes)]),
  ) as { [Status in StatusesOf<Specs[number]> & number]: ErrorResponseSchema };
}

// ------------------------------------------------------------------ building blocks

/**
 * Every operation: text with a control character anywhere the store reads (query, path,
 * the headers it reads) is refused before routing, and anything unexpected is a 500.
 */
export const EVERY_OPERATION = {
  400: ['TEXT_INVALID'],
  500: ['INTERNAL'],
} as const satisfies ErrorSpec;

/** Operations with a schema for their path, query or headers: a value out of it. */
export const VALIDATED = { 400: ['BAD_REQUEST'] } as const satisfies ErrorSpec;

/** Operations that read or write the database: unreachable or silent, or its disk full. */
export const DATABASE = {
  503: ['DATABASE_UNAVAILABLE', 'STORAGE_FULL'],
} as const satisfies ErrorSpec;

/** Operations that sign a token: the issuer certificate has ended. */
export const SIGNS_TOKENS = { 503: ['SERVICE_UNAVAILABLE'] } as const satisfies ErrorSpec;

/** Operations with a JSON body: malformed or out of schema, too large, not JSON. */
export const JSON_BODY = {
  400: ['BAD_REQUEST'],
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
} as const satisfies ErrorSpec;

/** The license key in `Authorization: Bearer`: missing, unknown, or too many failures. */
export const LICENSE_KEY = {
  401: ['UNAUTHORIZED'],
  404: ['LICENSE_NOT_FOUND'],
  429: ['TOO_MANY_REQUESTS'],
} as const satisfies ErrorSpec;

/** A license that must be usable (gets tokens): revoked, or not paid for this period. */
export const USABLE_LICENSE = {
  402: ['PAYMENT_REQUIRED'],
  403: ['LICENSE_REVOKED'],
} as const satisfies ErrorSpec;

/** The admin API: every route is behind the admin token. */
export const ADMIN_TOKEN = { 401: ['ADMIN_TOKEN_INVALID'] } as const satisfies ErrorSpec;
