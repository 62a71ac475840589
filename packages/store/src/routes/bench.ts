import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { base64urlEncode, tokenHash } from '@licensekit/core';
import { issue } from '@licensekit/issuer';
import type { FastifyInstance } from 'fastify';
import { seconds } from '../lib/clock.js';
import { acceptJsonOnly, emptyBodyAsObject } from '../lib/raw-json.js';
import { ErrorResponse } from '../schemas/common.js';
import { RefreshBody, TokenResponse } from '../schemas/licenses.js';

const DAY_SECONDS = 86_400;

/**
 * The benchmark's HTTP limit (`pnpm bench store`, bench/store.mjs): POST
 * /v1/bench/ready-token answers like POST /v1/licenses/refresh — same JSON-only parser,
 * body and response schemas, hooks (security headers, metrics, outbox wake) — with a
 * token signed once at start-up, so it costs everything a refresh costs except the
 * license lookup, the database and the signing. Registered only with
 * `buildStore({ benchRoutes: true })`; never in a store that serves customers.
 */
export default async function benchRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);
  const readyToken = await signReadyToken(fastify);

  fastify.post(
    '/v1/bench/ready-token',
    {
      bodyLimit: 8 * 1024,
      preValidation: emptyBodyAsObject,
      schema: {
        hide: true,
        body: RefreshBody,
        response: {
          200: TokenResponse,
          400: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
        },
      },
    },
    async () => ({ token: readyToken, test: true }),
  );
}

/** A token shaped like a refresh of the demo catalogue's pro-monthly plan (about as long). */
async function signReadyToken(fastify: FastifyInstance): Promise<string> {
  const { keys, config } = fastify;
  const now = seconds(fastify.clock.now());
  const exp = Math.min(now + 30 * DAY_SECONDS, keys.certificateExpiresAt);
  return issue(
    {
      iss: config.vendor,
      sub: `lic_${base64urlEncode(randomBytes(16))}`,
      aud: 'photon',
      exp,
      plan: 'pro-monthly',
      access: 'full',
      ent: ['basic-filters', 'raw-import', 'export-4k', 'batch'],
      quota: { exports: { limit: 1000, per: 'month' }, seats: { limit: 2 } },
      anchor: now,
      grace: 7 * DAY_SECONDS,
      rfa: Math.min(now + DAY_SECONDS, exp),
      seq: 2,
      prev: await tokenHash(randomBytes(64)),
    },
    { signer: keys.issuer, certificate: keys.certificate, format: 'cwt', now },
  );
}
