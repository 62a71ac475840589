import type { FastifyInstance } from 'fastify';
import type { StoreContext } from '../services/context.js';

/** The services' view of a running store: its external things, no HTTP. */
export function storeContext(fastify: FastifyInstance): StoreContext {
  return {
    config: fastify.config,
    db: fastify.db,
    clock: fastify.clock,
    keys: fastify.keys,
    secrets: fastify.secrets,
    log: fastify.log,
  };
}
