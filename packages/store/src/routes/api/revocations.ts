import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { DATABASE, EVERY_OPERATION, errorResponses } from '../../schemas/error-responses.js';

/**
 * The newest signed revocation list, for apps to pass to `verifier.updateRevocations`.
 * Signed by the root key (see services/revocations.ts), so apps that embed only the root
 * public key accept it.
 */
export default async function revocations(fastify: FastifyInstance) {
  fastify.get(
    '/v1/revocations',
    {
      schema: {
        tags: ['keys'],
        summary: 'The newest signed revocation list',
        response: {
          200: Type.Object(
            {
              seq: Type.Integer(),
              /** The list token (CWT, base64url; or JWS): pass it to updateRevocations. */
              list: Type.String(),
              issuedAt: Type.String({ format: 'date-time' }),
            },
            { description: 'The newest list, signed by the root key.' },
          ),
          ...errorResponses(EVERY_OPERATION, DATABASE, { 404: ['REVOCATION_LIST_NOT_FOUND'] }),
        },
      },
    },
    async (_request, reply) => {
      const list = await fastify.revocations.current();
      if (!list) throw new StoreError('REVOCATION_LIST_NOT_FOUND');
      // Public and identical for everyone: caches may keep it briefly.
      reply.header('cache-control', 'public, max-age=300');
      return { seq: list.seq, list: list.token, issuedAt: list.createdAt.toISOString() };
    },
  );
}
