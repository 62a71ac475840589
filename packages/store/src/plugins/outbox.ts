import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { OutboxWorker, releaseAllClaims } from '../services/outbox.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook delivery worker of this instance; `wake()` after writing events. */
    outbox: OutboxWorker;
  }
}

/**
 * Webhook delivery as a decorator: the worker starts when the server is ready (unless
 * disabled in this instance) and stops in onClose, handing back claims of POSTs in
 * flight. It polls; to deliver without waiting for the next poll, it is also woken after
 * every answered request that could have written events (any method but GET/HEAD/OPTIONS):
 * a cheap indexed query when there is nothing to do, and no service has to remember it.
 */
async function outbox(fastify: FastifyInstance) {
  const settings = fastify.config.operations.webhooks;
  const worker = new OutboxWorker({
    db: fastify.db,
    clock: fastify.clock,
    secrets: fastify.secrets,
    log: fastify.log.child({ component: 'webhooks' }),
    settings,
    onAttempt: (result) => fastify.metrics.webhookDeliveries.inc({ result }),
  });
  fastify.decorate('outbox', worker);
  if (!settings.enabled) return;
  fastify.addHook('onReady', async () => {
    // Claims left by a store that was killed mid-delivery would otherwise wait out their
    // lock (lockMs) before going out again; when no other instance can hold a claim, they
    // are that dead store's, so they are released now.
    if (fastify.dbExclusive) await releaseAllClaims(fastify.db);
    worker.start();
  });
  fastify.addHook('onClose', async () => worker.stop());
  fastify.addHook('onResponse', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS')
      worker.wake();
  });
}

export default fp(outbox, { name: 'outbox', dependencies: ['database', 'keys', 'metrics'] });
