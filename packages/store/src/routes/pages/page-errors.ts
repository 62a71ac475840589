import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';

/**
 * What an error of a page route shows: a StoreError its status and message (429 also sets
 * Retry-After), Fastify's client errors (validation, 413, 415, a form it cannot parse) their
 * status, anything else is logged and becomes a 500 that names nothing internal. Each set of
 * pages (storefront, admin screen, vendor dashboard) renders the outcome in its own frame.
 */
export function pageErrorOf(
  error: FastifyError | StoreError,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { tooLargeMessage?: string } = {},
): { status: number; message: string | undefined } {
  let status = 500;
  let message: string | undefined;
  if (error instanceof StoreError) {
    status = error.status;
    message = error.message;
    if (status === 429) reply.header('retry-after', String(error.retryAfterSeconds ?? 60));
  } else if ((error as FastifyError).validation) {
    status = 400;
    message = 'The address or the form is not valid.';
  } else if (
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    status = error.statusCode;
    if (status === 413) message = options.tooLargeMessage;
  }
  if (status >= 500) {
    if (status === 500) request.log.error({ err: error }, 'request failed');
    message = undefined;
  }
  return { status, message };
}
