import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorResponse } from '../../schemas/common.js';

/** The issuance log's one admin action: a checkpoint now, rather than at the next tick. */
export default async function log(fastify: FastifyInstance) {
  fastify.post(
    '/v1/admin/log/checkpoint',
    {
      schema: {
        tags: ['admin'],
        summary: 'Sign a checkpoint of the issuance log now (on demand)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ size: Type.Integer(), checkpoint: Type.String() }),
          401: ErrorResponse,
        },
      },
    },
    async () => {
      const checkpoint = await fastify.issuanceLog.checkpoint();
      return { size: checkpoint.size, checkpoint: checkpoint.note };
    },
  );
}
