import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable, isStorageFull } from '../db/client.js';
import type { ErrorCode } from '../errors.js';
import { ERROR_CODES, errorBody, StoreError } from '../errors.js';
import { errorPage } from '../views/errors.js';

/** Retry-After of a 503 for an unreachable database: clients come back soon, not at once. */
const DATABASE_RETRY_AFTER_SECONDS = 5;
/** Retry-After of a 503 for a full disk: freeing space takes a person, not a moment. */
const STORAGE_RETRY_AFTER_SECONDS = 60;

/**
 * One error shape for the whole API. Registered StoreErrors answer with their code;
 * validation and parser errors become 400/413/415; a lost database is 503
 * DATABASE_UNAVAILABLE; anything else is logged with its stack and answered as INTERNAL
 * without a word about internals.
 */
async function errors(fastify: FastifyInstance) {
  fastify.setErrorHandler((error: FastifyError | StoreError, request, reply) => {
    if (isDatabaseUnavailable(error)) {
      // The database is down or unreachable (db/client.ts): the request may succeed
      // unchanged later, so 503 with a hint when to retry — never a 500, never a hang.
      // One warning per request, without the stack: the cause is outside the store.
      const cause = (error as Error).cause ?? error;
      request.log.warn(
        { database: (cause as Error).message ?? String(cause) },
        'database unavailable',
      );
      return reply
        .status(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send(errorBody('DATABASE_UNAVAILABLE'));
    }
    if (isStorageFull(error)) {
      // The operator must act (free space): an error-level line, without the statement's
      // values. The transaction rolled back, so the client may retry the same request.
      request.log.error({ storage: (error as Error).message }, 'disk full: request refused');
      return reply
        .status(503)
        .header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS))
        .send(errorBody('STORAGE_FULL'));
    }
    if (error instanceof StoreError) {
      if (error.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.status(error.status).send(errorBody(error.code, error.message, error.extra));
    }
    if ((error as FastifyError).validation) {
      return reply.status(400).send(errorBody('BAD_REQUEST', `Invalid request: ${error.message}`));
    }
    const known = clientError(error as FastifyError);
    if (known) return reply.status(ERROR_CODES[known].status).send(errorBody(known));
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL'));
  });
  fastify.setNotFoundHandler((request, reply) => {
    // A browser asking for a page gets the 404 page; API clients keep the JSON error.
    if (wantsPage(request)) {
      return reply
        .status(404)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(errorPage({ status: 404, vendor: fastify.config.vendor }).value);
    }
    return reply.status(404).send(errorBody('NOT_FOUND'));
  });
}

function wantsPage(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return (
    !request.url.startsWith('/v1/') && typeof accept === 'string' && accept.includes('text/html')
  );
}

/** Fastify's own client errors (body parsing and limits), mapped to registered codes. */
function clientError(error: FastifyError): ErrorCode | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'BAD_REQUEST';
    default:
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
        return 'BAD_REQUEST';
      return undefined;
  }
}

/**
 * Headers of the answers Fastify sends before any plugin runs (below): the security plugin's
 * onSend hook never sees them. A JSON error loads nothing, so its CSP can refuse everything.
 */
const BARE_ANSWER_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

/**
 * Fastify's `frameworkErrors`: the router's own refusals — a malformed percent-escape in
 * the path, a path parameter over 100 characters — before any route or hook. Fastify's
 * default answers with its own shape and echoes the whole URL back; a parameter that long
 * is simply out of every pattern the store has, so it gets what one gets: 400 BAD_REQUEST.
 */
export function frameworkErrors(
  _error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return reply.status(400).headers(BARE_ANSWER_HEADERS).send(errorBody('BAD_REQUEST'));
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses never reach Fastify —
 * malformed HTTP, headers over Node's 16 KiB, a request slower than the request timeout.
 * Fastify's default writes `{ error, message, statusCode }` on the socket; this writes the
 * store's shape with a registered code (400, 431, 408) and closes the connection.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Duplex,
): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'REQUEST_TIMEOUT'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'HEADERS_TOO_LARGE'
        : 'BAD_REQUEST';
  // Clients send garbage all the time: not worth more than a trace line.
  this.log.trace({ err: error }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code));
    const { status } = ERROR_CODES[code];
    const headers = Object.entries({
      ...BARE_ANSWER_HEADERS,
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers.join('')}\r\n${body}`);
  }
  socket.destroy(error);
}

export default fp(errors, { name: 'errors' });
