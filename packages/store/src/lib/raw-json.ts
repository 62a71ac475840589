import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * JSON bodies with their exact bytes kept: a device proof (`bh`) and a payment webhook
 * signature cover the bytes as sent, not a re-serialisation. Registered inside a route
 * plugin, it replaces every body parser of that plugin (so form posts get 415 there) and
 * parses with Fastify's own JSON parser (prototype-poisoning protection included).
 */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export function acceptJsonOnly(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    rawBodies.set(request, bytes);
    parse(request, bytes.toString('utf8'), done);
  });
}

/** The body bytes of a request parsed by {@link acceptJsonOnly} (empty when it had none). */
export function rawBody(request: FastifyRequest): Buffer {
  return rawBodies.get(request) ?? Buffer.alloc(0);
}

/**
 * preValidation hook for routes whose body is optional: a request without one (no
 * Content-Type, no bytes) is validated as `{}`.
 */
export async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  // Only a body that is absent: a JSON `null` sent as the body is not an object, and is
  // refused by the schema like any other non-object.
  if (request.body === undefined || (request.body === null && rawBody(request).length === 0)) {
    request.body = {};
  }
}
