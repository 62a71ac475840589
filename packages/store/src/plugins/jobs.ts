import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { emitExpiringSoon } from '../services/notifications.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs the periodic jobs once now (tests, `licensekit` maintenance). */
    runOperationsJobs(): Promise<{ expiringSoon: number }>;
  }
}

/**
 * Periodic jobs of the operations part, on a timer in every instance (each job is safe to
 * run concurrently: see emitOnce): license.expiring_soon notices.
 */
async function jobs(fastify: FastifyInstance) {
  const { intervalMs, expiringSoonDays } = fastify.config.operations.jobs;
  let running: Promise<unknown> | undefined;
  const run = async () => {
    const expiringSoon = await emitExpiringSoon(fastify.db, fastify.clock.now(), expiringSoonDays);
    if (expiringSoon > 0) fastify.outbox.wake();
    return { expiringSoon };
  };
  fastify.decorate('runOperationsJobs', run);
  if (intervalMs === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (running) return;
    running = run()
      .catch((error) => fastify.log.error({ err: error }, 'operations jobs failed'))
      .finally(() => {
        running = undefined;
      });
  };
  fastify.addHook('onReady', async () => {
    timer = setInterval(tick, intervalMs);
    timer.unref();
    tick();
  });
  fastify.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    await running;
  });
}

export default fp(jobs, { name: 'operations-jobs', dependencies: ['database', 'outbox'] });
