import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { StoreConfig } from './config.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import { ensureStoreVendor } from './marketplace/vendors.js';
import database from './plugins/database.js';
import errors from './plugins/errors.js';
import issuanceLog from './plugins/issuance-log.js';
import keys from './plugins/keys.js';
import licensing from './plugins/licensing.js';
import mail from './plugins/mail.js';
import operations from './plugins/operations.js';
import security from './plugins/security.js';
import textGuard from './plugins/text-guard.js';
import { catalogueRepository } from './repositories/catalogue.js';
import catalogueRoutes from './routes/api/catalogue.js';
import keysRoutes from './routes/api/keys.js';
import logRoutes from './routes/api/log.js';
import benchRoutes from './routes/bench.js';
import docs from './routes/docs.js';
import health from './routes/health.js';
import pages from './routes/pages/index.js';
import { ErrorResponse } from './schemas/common.js';
import { seedDemoCatalogue } from './seed.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: StoreConfig;
    clock: Clock;
  }
}

export interface AppOptions {
  config: StoreConfig;
  clock: Clock;
  /** A database to use instead of opening one from the config (tests). */
  db?: Db | undefined;
  /** The benchmark's HTTP-limit route (routes/bench.ts); off unless `pnpm bench` asks. */
  benchRoutes?: boolean | undefined;
}

/**
 * The store as a Fastify plugin: external things first (database, keys), then the
 * cross-cutting plugins, then the routes. `server.ts` only adds logging and listening.
 */
async function app(fastify: FastifyInstance, options: AppOptions) {
  fastify.decorate('config', options.config);
  fastify.decorate('clock', options.clock);
  fastify.addSchema(ErrorResponse);
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'licensekit store',
        version: '1',
        description: 'Sell, activate and refresh signed license tokens.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await fastify.register(database, { config: options.config, db: options.db });
  await fastify.register(keys, { config: options.config, clock: options.clock });
  await fastify.register(errors);
  await fastify.register(security, { config: options.config });
  // Before any route: text with control characters never reaches a handler or the database.
  await fastify.register(textGuard);
  await fastify.register(formbody, { bodyLimit: 16 * 1024 });

  // The store's own vendor owns every product no other vendor was given (zero config).
  await ensureStoreVendor(fastify.db, options.config.vendor, options.clock.now());
  if (options.config.seedDemo) {
    if (await seedDemoCatalogue(catalogueRepository(fastify.db, options.config.publicUrl))) {
      fastify.log.info('seeded the demo catalogue');
    }
  }

  await fastify.register(health);
  await fastify.register(catalogueRoutes);
  await fastify.register(keysRoutes);
  // The issuance log before anything that signs: every token is appended to it.
  await fastify.register(issuanceLog);
  await fastify.register(logRoutes);

  // --- licensing: checkout, licenses (activate, refresh, status), plan changes, payments ---
  await fastify.register(licensing);

  // --- operations: usage, attachments, revocations, webhooks, admin, metrics ---
  await fastify.register(operations);

  // --- e-mail: the mail outbox and its sender (SMTP_URL, or the development server) ---
  await fastify.register(mail);

  // --- the benchmark's HTTP limit (pnpm bench store), only when asked for ---
  if (options.benchRoutes) await fastify.register(benchRoutes);

  // --- pages: storefront and customer portal ---
  await fastify.register(pages);

  // --- the API reference: Swagger UI at /docs, the OpenAPI document at /docs/json ---
  await fastify.register(docs);
}

export default fp(app, { name: 'licensekit-store' });
