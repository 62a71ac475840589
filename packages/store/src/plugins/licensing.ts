import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import checkoutRoutes from '../routes/api/checkout.js';
import licenseRoutes from '../routes/api/licenses.js';
import offlineRoutes from '../routes/api/offline.js';
import paymentWebhookRoutes from '../routes/api/payment-webhooks.js';
import planChangeRoutes from '../routes/api/plan-changes.js';
import stripeWebhookRoutes from '../routes/api/stripe-webhook.js';
import billing from './billing.js';

/**
 * The licensing part of the store: checkout, the license API (activate, deactivate,
 * refresh, status, current token), plan changes, payment webhooks and the billing timer.
 * Each route plugin is encapsulated (its own JSON-only body parser and limits).
 */
async function licensing(fastify: FastifyInstance) {
  await fastify.register(checkoutRoutes);
  await fastify.register(licenseRoutes);
  await fastify.register(offlineRoutes);
  await fastify.register(planChangeRoutes);
  await fastify.register(paymentWebhookRoutes);
  await fastify.register(stripeWebhookRoutes);
  await fastify.register(billing);
}

export default fp(licensing, { name: 'licensing' });
