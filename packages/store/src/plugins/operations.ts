import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { storeContext } from '../lib/store-context.js';
import admin from '../routes/admin/index.js';
import attachmentRoutes from '../routes/api/attachments.js';
import revocationRoutes from '../routes/api/revocations.js';
import usageRoutes from '../routes/api/usage.js';
import metricsRoute from '../routes/metrics.js';
import { seedDemoAttachment } from '../services/attachments.js';
import type { RevocationsService } from '../services/revocations.js';
import { loadRootSigner, revocationsService } from '../services/revocations.js';
import jobs from './jobs.js';
import metrics from './metrics.js';
import outbox from './outbox.js';

declare module 'fastify' {
  interface FastifyInstance {
    revocations: RevocationsService;
  }
}

/**
 * The operations part of the store in one plugin: metrics (hooks on every route),
 * webhook delivery, periodic jobs, revocations, and the usage, attachment, revocation,
 * metrics and admin routes.
 */
async function operations(fastify: FastifyInstance) {
  await fastify.register(metrics);
  await fastify.register(outbox);
  await fastify.register(jobs);
  fastify.decorate(
    'revocations',
    revocationsService(storeContext(fastify), await loadRootSigner(fastify.config.dataDir)),
  );
  if (fastify.config.seedDemo && (await seedDemoAttachment(storeContext(fastify)))) {
    fastify.log.info('seeded the demo attachment');
  }
  await fastify.register(usageRoutes);
  await fastify.register(attachmentRoutes);
  await fastify.register(revocationRoutes);
  await fastify.register(metricsRoute);
  await fastify.register(admin);
}

export default fp(operations, { name: 'operations', dependencies: ['database', 'keys'] });
