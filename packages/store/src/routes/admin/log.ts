import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { emptyBodyAsObject } from '../../lib/raw-json.js';
import { ADMIN_WRITE } from '../../schemas/admin.js';
import { errorResponses } from '../../schemas/error-responses.js';

/** The issuance log's one admin action: a checkpoint now, rather than at the next tick. */
export default async function log(fastify: FastifyInstance) {
  fastify.post(
    '/v1/admin/log/checkpoint',
    {
      // No parameters: no body, or an empty object; anything else is a mistake (400).
      preValidation: emptyBodyAsObject,
      schema: {
        body: Type.Object({}, { additionalProperties: false }),
        tags: ['admin'],
        summary: 'Sign a checkpoint of the issuance log now (on demand)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            { size: Type.Integer(), checkpoint: Type.String() },
            { description: 'The checkpoint of the log as it is now (a signed note).' },
          ),
          ...errorResponses(...ADMIN_WRITE),
        },
      },
    },
    async () => {
      const checkpoint = await fastify.issuanceLog.checkpoint();
      return { size: checkpoint.size, checkpoint: checkpoint.note };
    },
  );
}
