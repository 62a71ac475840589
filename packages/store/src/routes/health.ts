import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/** Liveness with a database round trip, for load balancers and `licensekit serve` checks. */
export default async function health(fastify: FastifyInstance) {
  fastify.get(
    '/health',
    {
      schema: {
        hide: true,
        response: {
          200: Type.Object({ status: Type.Literal('ok'), database: Type.String() }),
          503: Type.Object({ status: Type.Literal('unavailable'), database: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await fastify.db.query('SELECT 1');
        return { status: 'ok' as const, database: fastify.db.kind };
      } catch {
        return reply
          .status(503)
          .send({ status: 'unavailable' as const, database: fastify.db.kind });
      }
    },
  );
}
