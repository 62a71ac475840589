import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorCode } from '../errors.js';
import { ERROR_CODES, errorBody, StoreError } from '../errors.js';
import { errorPage } from '../views/errors.js';

/**
 * One error shape for the whole API. Registered StoreErrors answer with their code;
 * validation and parser errors become 400/413/415; anything else is logged with its
 * stack and answered as INTERNAL without a word about internals.
 */
async function errors(fastify: FastifyInstance) {
  fastify.setErrorHandler((error: FastifyError | StoreError, request, reply) => {
    if (error instanceof StoreError) {
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

export default fp(errors, { name: 'errors' });
