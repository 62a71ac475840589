import type { FastifyInstance } from 'fastify';
import { STATIC_ASSETS } from '../../static/assets.js';

/**
 * The pages' stylesheet and script. Pages link them with a content hash in the query
 * (`?v=`), so a year of caching is safe; a new release links a new URL.
 */
export default async function staticRoutes(fastify: FastifyInstance) {
  for (const asset of STATIC_ASSETS) {
    fastify.get(asset.path, { schema: { hide: true } }, async (request, reply) => {
      reply
        .header('content-type', asset.contentType)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('etag', asset.etag);
      if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
      return reply.send(asset.body);
    });
  }
}
