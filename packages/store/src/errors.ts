/**
 * The store's error codes: one registry with the HTTP status and the message a client
 * sees. Every error response is `{ error: { code, message } }` (plus links such as
 * `checkoutUrl` where the code calls for one). A test fails when the README's table
 * misses a code.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: 'The request is not valid.' },
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    message: 'This request needs an Idempotency-Key header.',
  },
  TEXT_INVALID: {
    status: 400,
    message:
      'The request holds a control character or an unpaired surrogate, which the store does not accept in text.',
  },
  USAGE_REPORT_INVALID: { status: 400, message: 'The usage report is not valid.' },
  OFFLINE_REQUEST_INVALID: {
    status: 400,
    message:
      'The offline request cannot be used: it is mistyped or cut short (its checksum fails), not a request, not signed by the device key it carries, or too old.',
  },
  REVOCATION_LIST_INVALID: {
    status: 400,
    message:
      'The revocation list is not signed by the root key, or is not newer than the current one.',
  },
  WEBHOOK_URL_NOT_PUBLIC: {
    status: 400,
    message:
      'A vendor’s webhook endpoint must be on a public internet address, not a loopback, private, link-local or local one.',
  },
  UNAUTHORIZED: { status: 401, message: 'Authentication is required.' },
  ADMIN_TOKEN_INVALID: { status: 401, message: 'A valid admin token is required.' },
  DEVICE_PROOF_INVALID: {
    status: 401,
    message: 'The device proof is missing or not valid for this request.',
  },
  USAGE_REPORT_UNTRUSTED: {
    status: 401,
    message: 'The usage report is not signed by an active device of this license.',
  },
  TOKEN_INVALID: {
    status: 401,
    message: 'The license token is malformed, not signed by this store, or not one it issued.',
  },
  WEBHOOK_SIGNATURE_INVALID: {
    status: 401,
    message: 'The webhook signature or timestamp is missing or not valid.',
  },
  PAYMENT_REQUIRED: { status: 402, message: 'The license is not paid for this period.' },
  FORBIDDEN: { status: 403, message: 'This action is not allowed.' },
  VENDOR_FORBIDDEN: {
    status: 403,
    message: 'A vendor token cannot do this: the operator’s admin token is required.',
  },
  LICENSE_REVOKED: { status: 403, message: 'This license has been revoked.' },
  QUOTA_EXHAUSTED: { status: 403, message: 'The quota for this is used up until it resets.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  LICENSE_NOT_FOUND: { status: 404, message: 'No license matches this key.' },
  PRODUCT_NOT_FOUND: { status: 404, message: 'No such product.' },
  PLAN_NOT_FOUND: { status: 404, message: 'No such plan for this product.' },
  ORDER_NOT_FOUND: { status: 404, message: 'No such order.' },
  VENDOR_NOT_FOUND: { status: 404, message: 'No such vendor.' },
  PAYOUT_NOT_FOUND: { status: 404, message: 'No such payout.' },
  INVOICE_NOT_FOUND: { status: 404, message: 'No such invoice or credit note.' },
  DEVICE_NOT_FOUND: { status: 404, message: 'No such active device on this license.' },
  ATTACHMENT_NOT_FOUND: { status: 404, message: 'No such attachment.' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, message: 'No such webhook endpoint.' },
  REVOCATION_LIST_NOT_FOUND: {
    status: 404,
    message: 'No revocation list is available yet.',
  },
  SEATS_FULL: {
    status: 409,
    message: 'All seats of this license are in use; deactivate a device first.',
  },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    message:
      'This Idempotency-Key was used for a different request, or that request is still running.',
  },
  TRIAL_USED: {
    status: 409,
    message: 'A trial of this product was already used by this customer.',
  },
  PLAN_CHANGE_INVALID: {
    status: 409,
    message: 'This plan change is not possible for this license.',
  },
  SEATS_IN_USE: {
    status: 409,
    message: 'More devices are active than the new seat count; deactivate devices first.',
  },
  OFFLINE_REQUEST_MISMATCH: {
    status: 409,
    message:
      'The offline request is for another product or license, or was made with another license key.',
  },
  OFFLINE_NONCE_REUSED: {
    status: 409,
    message:
      'Another offline request with the same nonce was already answered; make a new request on the device.',
  },
  BILLING_CYCLE_NOT_OFFERED: {
    status: 409,
    message: 'This plan is not offered on that billing cycle.',
  },
  QUOTE_CHANGED: {
    status: 409,
    message: 'The amount changed since the preview; review the new amount and confirm again.',
  },
  ORDER_NOT_REFUNDABLE: {
    status: 409,
    message:
      'This order cannot be refunded: it is not paid, nothing was charged, or it is refunded in full already.',
  },
  REFUND_TOO_LARGE: {
    status: 409,
    message: 'The refund is more than what is left of the order to refund.',
  },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as JSON.' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested range is not satisfiable.' },
  TOO_MANY_REQUESTS: {
    status: 429,
    message: 'Too many failed attempts; wait a minute and try again.',
  },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
  PAYMENT_PROVIDER_UNAVAILABLE: {
    status: 502,
    message:
      'The payment processor did not answer or refused the request; nothing was charged. Send the same request again (same Idempotency-Key) to retry.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'The service is starting or stopping; try again shortly.',
  },
  DATABASE_UNAVAILABLE: {
    status: 503,
    message: 'The store cannot reach its database at the moment; try again shortly.',
  },
  STORAGE_FULL: {
    status: 503,
    message:
      "The store's disk is full: nothing of this request was recorded. Try again later (same Idempotency-Key).",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a registered code; anything else becomes INTERNAL. */
export class StoreError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra members of the error response (links such as checkoutUrl). */
  readonly extra: Record<string, unknown>;
  /** Seconds until the request may succeed: sent as Retry-After (API and pages alike). */
  retryAfterSeconds?: number;

  constructor(code: ErrorCode, message?: string, extra: Record<string, unknown> = {}) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'StoreError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.extra = extra;
  }
}

export function errorBody(code: ErrorCode, message?: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message: message ?? ERROR_CODES[code].message }, ...extra };
}
