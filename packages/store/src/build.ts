import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import Fastify from 'fastify';
import app from './app.js';
import type { ConfigInput } from './config.js';
import { loadConfig } from './config.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import { shiftedClock, systemClock } from './lib/clock.js';
import { clientErrorHandler, frameworkErrors } from './plugins/errors.js';

export interface BuildOptions extends ConfigInput {
  db?: Db;
  clock?: Clock;
  /** Fastify's logger option (pino): false in tests, an object or stream in servers. */
  logger?: FastifyServerOptions['logger'];
  /**
   * Registers the benchmark's HTTP-limit route, POST /v1/bench/ready-token
   * (routes/bench.ts). For `pnpm bench store` only: off by default, never in production.
   */
  benchRoutes?: boolean;
}

/** Request headers (and error fields) that carry secrets: never written to a log. */
export const REDACTED_HEADERS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  // A failed statement's values (an e-mail, a sealed receipt): the query text is enough.
  'err.params',
  'err.cause.params',
];

/**
 * Builds the store (not listening): tests call it and use `inject`, servers call it and
 * listen. JSON bodies are capped at 64 KiB (routes lower it where they expect less).
 */
export async function buildStore(options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig(options);
  const fastify = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024,
    trustProxy: false,
    // Fastify's default is no limit: a client trickling a body (slow loris) would hold its
    // connection for ever. Node applies the larger of headersTimeout and requestTimeout to
    // the body, so both are set; it checks them every connectionsCheckingInterval.
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(config.requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.min(config.requestTimeoutMs, 1_000),
    },
    return503OnClosing: true,
    // PGlite compiles PostgreSQL's WebAssembly and may initialise a data directory on the
    // first start: seconds, more on a loaded machine. Fastify's 10 s default is too tight.
    pluginTimeout: 120_000,
    requestIdHeader: false,
    // Answers Fastify gives outside every route (router and HTTP parser refusals) in the
    // store's error shape with registered codes, not Fastify's own (plugins/errors.ts).
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  try {
    await fastify.register(app, {
      config,
      // A test's clock, else `serve --now` (a pretend clock, never in production), else real time.
      clock: options.clock ?? (config.now === undefined ? systemClock : shiftedClock(config.now)),
      db: options.db,
      benchRoutes: options.benchRoutes === true,
    });
    await fastify.ready();
  } catch (error) {
    // Whatever did start (the database, its directory lock, timers) stops with it.
    await fastify.close().catch(() => undefined);
    throw error;
  }
  return fastify as unknown as FastifyInstance;
}
