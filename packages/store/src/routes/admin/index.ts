import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../../lib/auth.js';
import { acceptJsonOnly } from '../../lib/raw-json.js';
import attachments from './attachments.js';
import catalogue from './catalogue.js';
import licenses from './licenses.js';
import log from './log.js';
import marketplace from './marketplace.js';
import offline from './offline.js';
import orders from './orders.js';
import refunds from './refunds.js';
import revocations from './revocations.js';
import { documentVendorRefusal } from './scope.js';
import vendorTokens from './vendor-tokens.js';
import webhooks from './webhooks.js';

/**
 * The admin API under /v1/admin, behind the admin token (`Authorization: Bearer …`).
 * The check is an onRequest hook of this encapsulated plugin, so it runs before any body
 * is read or validated and no admin route can be added without it. A vendor's token
 * (`lkv_…`) passes only on routes marked `vendorAccess`, which scope to its products.
 */
export default async function admin(fastify: FastifyInstance) {
  // Who is calling (operator or one vendor): requireAdmin sets it; routes scope by it.
  fastify.decorateRequest('admin', null);
  fastify.addHook('onRequest', requireAdmin);
  // Operator-only routes document the vendor token's 403 (routes/admin/scope.ts).
  fastify.addHook('onRoute', documentVendorRefusal);
  // JSON only (415 for forms and text), like the rest of the API; uploads add their own.
  acceptJsonOnly(fastify);
  await fastify.register(catalogue);
  await fastify.register(orders);
  await fastify.register(licenses);
  await fastify.register(webhooks);
  await fastify.register(attachments);
  await fastify.register(revocations);
  await fastify.register(log);
  await fastify.register(offline);
  await fastify.register(marketplace);
  await fastify.register(refunds);
  await fastify.register(vendorTokens);
}
