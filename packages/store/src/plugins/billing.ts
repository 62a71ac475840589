import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { storeContext } from '../lib/store-context.js';
import { startBillingTimer } from '../services/billing.js';

/**
 * Runs the billing cycle (services/billing.ts) on a timer while the store is up, and
 * stops it (waiting for a run in progress) when the store closes. Off when
 * config.licensing.billing.enabled is false (tests call runBillingCycle themselves).
 */
async function billing(fastify: FastifyInstance) {
  const { enabled, intervalMs } = fastify.config.licensing.billing;
  if (!enabled) return;
  // Billing writes webhook events outside any request: wake the outbox after each run so
  // they go out at once rather than at its next poll.
  const timer = startBillingTimer(storeContext(fastify), intervalMs, () => fastify.outbox?.wake());
  fastify.addHook('onClose', () => timer.stop());
}

export default fp(billing, { name: 'billing', dependencies: ['database', 'keys'] });
