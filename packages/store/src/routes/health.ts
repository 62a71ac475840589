import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../db/client.js';

/**
 * A load balancer gives up on a check after a few seconds; a database that went silent
 * (a partition) would hold `SELECT 1` for the whole database timeout. Past this the
 * check answers "unavailable" and leaves the statement to time out on its own.
 */
const HEALTH_TIMEOUT_MS = 2_000;

/** True when the database answered `SELECT 1` within HEALTH_TIMEOUT_MS. */
async function databaseAnswers(db: Db): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness with a database round trip, for load balancers and `licensekit serve` checks:
 * 503 `unavailable` while the database is down, unreachable or silent, 200 again as soon
 * as it answers (the store reconnects by itself).
 */
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
      if (await databaseAnswers(fastify.db))
        return { status: 'ok' as const, database: fastify.db.kind };
      return reply.status(503).send({ status: 'unavailable' as const, database: fastify.db.kind });
    },
  );
}
