import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { StoreConfig } from '../config.js';
import { FailureLimiter } from '../lib/failure-limiter.js';
import { keyGuessesRepository } from '../repositories/licenses.js';

declare module 'fastify' {
  interface FastifyInstance {
    failureLimiter: FailureLimiter;
  }
}

/**
 * Security headers on every response, CORS for the JSON API (apps in browsers and
 * extensions call refresh), and the limiter for failed license-key lookups (with its
 * Retry-After).
 * Pages get a strict CSP: no inline script, no third-party anything.
 */
async function security(fastify: FastifyInstance, options: { config: StoreConfig }) {
  // Failures are kept in the database every instance shares (key_guesses), on the store's
  // clock so that the window is as testable as trials and periods.
  fastify.decorate(
    'failureLimiter',
    new FailureLimiter({
      limit: 10,
      windowMs: 60_000,
      now: () => fastify.clock.now().getTime(),
      ledger: keyGuessesRepository(fastify.db),
      onLedgerError: (error) =>
        fastify.log.warn({ err: error }, 'key guesses not recorded in the database'),
    }),
  );
  const origin = options.config.corsOrigins.includes('*') ? '*' : options.config.corsOrigins;
  // Only the public JSON API is open to other origins. The admin API and the pages are
  // same-origin only: no preflight passes, no response is readable cross-origin.
  await fastify.register(cors, {
    delegator: (request, callback) =>
      callback(null, {
        origin: isPublicApi(request.url) ? origin : false,
        methods: ['GET', 'POST', 'DELETE'],
        allowedHeaders: ['content-type', 'authorization', 'idempotency-key', 'dpop'],
        maxAge: 600,
      }),
  });
  // The storefront's checkout form answers a 303 to Stripe Checkout when Stripe is the
  // storefront's processor; browsers hold form-action to the redirect's target too.
  const formAction = options.config.licensing.stripe
    ? "'self' https://checkout.stripe.com"
    : "'self'";
  fastify.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header(
      'content-security-policy',
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    );
    if (options.config.publicUrl.startsWith('https://')) {
      reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    }
    if (request.url.startsWith('/v1/') && !reply.hasHeader('cache-control'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
}

/**
 * Whether a request URL is the public JSON API, judged on its path as the router sees it:
 * dot segments resolved and percent-escapes decoded (the router takes /v1/%61dmin/… for
 * /v1/admin/…).
 */
function isPublicApi(url: string): boolean {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url, 'http://store.invalid').pathname);
  } catch {
    return false;
  }
  return path.startsWith('/v1/') && !path.startsWith('/v1/admin');
}

export default fp(security, { name: 'security', dependencies: ['database'] });
