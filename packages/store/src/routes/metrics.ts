import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { EXPOSITION_CONTENT_TYPE } from '../services/metrics.js';

/**
 * Prometheus scrape endpoint (text format 0.0.4). It reveals request counts and timings,
 * not customer data; still, expose it only on an internal network (or behind the proxy's
 * authentication), like /health.
 */
export default async function metricsRoute(fastify: FastifyInstance) {
  fastify.get(
    '/metrics',
    {
      schema: {
        hide: true,
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', EXPOSITION_CONTENT_TYPE);
      reply.header('cache-control', 'no-store');
      return fastify.metrics.registry.render();
    },
  );
}
