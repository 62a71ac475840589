import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { errorBody } from '../../errors.js';
import { licenseFromKey } from '../../lib/license-auth.js';
import { acceptJsonOnly, emptyBodyAsObject, rawBody } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import { described } from '../../schemas/common.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  JSON_BODY,
  LICENSE_KEY,
  SIGNS_TOKENS,
  USABLE_LICENSE,
  VALIDATED,
} from '../../schemas/error-responses.js';
import {
  ActivateBody,
  ActivateResponse,
  CurrentTokenQuery,
  CurrentTokenResponse,
  DeactivateBody,
  DeactivateResponse,
  LicenseHeaders,
  RefreshBody,
  StatusResponse,
  TokenResponse,
} from '../../schemas/licenses.js';
import type { LogProofBundle } from '../../schemas/log.js';
import { activateDevice, deactivateDevice } from '../../services/activation.js';
import { licenseStatus } from '../../services/license-status.js';
import { currentToken, refreshWithKey, refreshWithToken } from '../../services/refresh.js';

const BODY_LIMIT = 8 * 1024;

/**
 * Adds the token's issuance-log bundle when the client asked for it: after the token's
 * transaction has committed, under the newest checkpoint (made on demand if none covers
 * the token yet), so a verifier with `requireLogProof` can keep it offline.
 */
async function withLogProof<Answer extends { token: string }>(
  fastify: FastifyInstance,
  answer: Answer,
  wanted: boolean | undefined,
): Promise<Answer & { logProof?: Static<typeof LogProofBundle> }> {
  if (!wanted) return answer;
  const bundle = await fastify.issuanceLog.bundleForToken(answer.token);
  return { ...answer, logProof: { ...bundle, inclusion: [...bundle.inclusion] } };
}

/** What every key-authenticated route of this file can answer besides its own codes. */
const KEY_ROUTE = [EVERY_OPERATION, VALIDATED, DATABASE, LICENSE_KEY] as const;

/**
 * The license API: activation, deactivation, refresh, status and the current token. The
 * license key travels in `Authorization: Bearer`, never in a URL.
 */
export default async function licenseRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);
  const ctx = storeContext(fastify);

  fastify.post(
    '/v1/licenses/activate',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['licensing'],
        summary: 'Activate a device: bind its key, take a seat, get a bound token',
        description:
          'License key in Authorization; a device proof (DPoP header: typ dpop+jwt, htm POST, htu this URL, bh = SHA-256 of the body) made with the key being activated.',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: ActivateBody,
        response: {
          200: described(
            ActivateResponse,
            'The device (its seat taken) and a token bound to its key.',
          ),
          ...errorResponses(...KEY_ROUTE, JSON_BODY, USABLE_LICENSE, SIGNS_TOKENS, {
            401: ['DEVICE_PROOF_INVALID'],
            409: ['SEATS_FULL'],
          }),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      const activated = await activateDevice(ctx, license, {
        publicJwk: request.body.device.publicJwk,
        name: request.body.device.name,
        format: request.body.format,
        proof: request.headers.dpop,
        body: rawBody(request),
      });
      return withLogProof(fastify, activated, request.body.logProof);
    },
  );

  fastify.post(
    '/v1/licenses/deactivate',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['licensing'],
        summary: 'Deactivate a device and free its seat',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: DeactivateBody,
        response: {
          200: described(DeactivateResponse, 'The device, deactivated: its seat is free.'),
          ...errorResponses(...KEY_ROUTE, JSON_BODY, { 404: ['DEVICE_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      const body = request.body as { deviceId?: string; thumbprint?: string };
      return {
        device: await deactivateDevice(ctx, license.id, {
          deviceId: body.deviceId,
          thumbprint: body.thumbprint,
        }),
      };
    },
  );

  fastify.post(
    '/v1/licenses/refresh',
    {
      bodyLimit: BODY_LIMIT,
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['licensing'],
        summary: 'The next token of the license lineage',
        description:
          'Either { token } (what the verifier sends; a DPoP proof of the bound device for bound tokens) or the license key in Authorization (with { thumbprint } and a DPoP proof for a bound token).',
        headers: LicenseHeaders,
        body: RefreshBody,
        response: {
          200: described(
            TokenResponse,
            'The next token of the license (bound to the same device).',
          ),
          ...errorResponses(...KEY_ROUTE, JSON_BODY, USABLE_LICENSE, SIGNS_TOKENS, {
            401: ['TOKEN_INVALID', 'DEVICE_PROOF_INVALID'],
            404: ['DEVICE_NOT_FOUND'],
          }),
        },
      },
    },
    async (request) => {
      const body = request.body as {
        token?: string;
        thumbprint?: string;
        format?: 'jwt' | 'cwt';
        logProof?: boolean;
      };
      if (body.token !== undefined) {
        const issued = await refreshWithToken(ctx, {
          token: body.token,
          format: body.format,
          proof: request.headers.dpop,
          body: rawBody(request),
        });
        return withLogProof(fastify, { token: issued.token, test: issued.test }, body.logProof);
      }
      const license = await licenseFromKey(request);
      const issued = await refreshWithKey(ctx, license, {
        thumbprint: body.thumbprint,
        format: body.format,
        proof: request.headers.dpop,
        body: rawBody(request),
      });
      return withLogProof(fastify, { token: issued.token, test: issued.test }, body.logProof);
    },
  );

  fastify.get(
    '/v1/licenses/status',
    {
      schema: {
        tags: ['licensing'],
        summary: 'Status and expiry of a license (402 with a subscribe link when unpaid)',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        response: {
          200: described(StatusResponse, 'The license as the store knows it now.'),
          ...errorResponses(...KEY_ROUTE, USABLE_LICENSE),
        },
      },
    },
    async (request, reply) => {
      const license = await licenseFromKey(request);
      const { view, paid, subscribeUrl } = await licenseStatus(ctx, license.id);
      if (view.status === 'revoked') {
        return reply.status(403).send(errorBody('LICENSE_REVOKED'));
      }
      if (!paid) {
        return reply.status(402).send(errorBody('PAYMENT_REQUIRED', undefined, { subscribeUrl }));
      }
      const { id, ...rest } = view;
      return { license: id, ...rest };
    },
  );

  fastify.get(
    '/v1/licenses/token',
    {
      schema: {
        tags: ['licensing'],
        summary: 'The current unbound token of a license (issued if none is current)',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        querystring: CurrentTokenQuery,
        response: {
          200: described(
            CurrentTokenResponse,
            'The newest unbound token that reflects the license (issued now if there is none).',
          ),
          ...errorResponses(...KEY_ROUTE, USABLE_LICENSE, SIGNS_TOKENS),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      const issued = await currentToken(ctx, license.id, { format: request.query.format });
      return withLogProof(
        fastify,
        { token: issued.token, format: issued.format, seq: issued.seq, test: issued.test },
        request.query.logProof === 'true',
      );
    },
  );
}
