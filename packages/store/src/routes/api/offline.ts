import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MAX_OFFLINE_TEXT_LENGTH, QR_MAX_BYTES_LEVEL_M } from '@licensekit/core/offline';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { Type } from 'typebox';
import { licenseFromKey } from '../../lib/license-auth.js';
import { qrSvgs } from '../../lib/qr.js';
import { acceptJsonOnly } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import type { LicenseRecord } from '../../repositories/licenses.js';
import { TokenFormat } from '../../schemas/checkout.js';
import { described } from '../../schemas/common.js';
import type { ErrorSpec } from '../../schemas/error-responses.js';
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
import { DeviceView, LicenseHeaders } from '../../schemas/licenses.js';
import { LogProofFlag } from '../../schemas/log.js';
import {
  answerOfflineRequest,
  checkOfflineRequest,
  readOfflineInput,
} from '../../services/offline-activation.js';

/**
 * Offline activation over the API: a request written by a machine that never goes online
 * (the LK1-REQ text, or its QR codes' parts) brought by the customer or an app helper on
 * an online machine, answered with the response text the machine imports. The admin API
 * answers the same for a vendor's support desk (routes/admin/offline.ts).
 */

/** Room for a request of the longest text core accepts, in either shape, and JSON around it. */
export const OFFLINE_BODY_LIMIT = 48 * 1024;

const answerOptions = {
  format: Type.Optional(TokenFormat),
  logProof: LogProofFlag,
};

export const OfflineBody = Type.Union([
  Type.Object(
    {
      request: Type.String({
        minLength: 1,
        maxLength: MAX_OFFLINE_TEXT_LENGTH,
        description:
          'The request text as the app wrote it (LK1-REQ.…), in one line: the store refuses line breaks in JSON text.',
      }),
      ...answerOptions,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      parts: Type.Array(Type.String({ minLength: 1, maxLength: QR_MAX_BYTES_LEVEL_M }), {
        minItems: 1,
        maxItems: 16,
        description: 'The contents of the request’s QR codes (LK1/<i>/<n>/…), in any order.',
      }),
      ...answerOptions,
    },
    { additionalProperties: false },
  ),
]);
type OfflineBody = Static<typeof OfflineBody>;

export const OfflineAnswerResponse = Type.Object({
  response: Type.String({
    description: 'The response text (LK1-RES.…) for the device to import.',
  }),
  kind: Type.Union([Type.Literal('activate'), Type.Literal('refresh')]),
  license: Type.String({ description: 'The license id.' }),
  device: DeviceView,
  token: Type.String({ description: 'The token inside the response, bound to the device.' }),
  usage: Type.Union(
    [
      Type.Object({
        accepted: Type.Array(Type.String()),
        ignored: Type.Array(Type.String()),
      }),
      Type.Null(),
    ],
    { description: 'What the request’s usage report recorded; null when it had none.' },
  ),
  qr: Type.Array(Type.String(), {
    description:
      'The response as QR codes: one SVG per code (error correction M), several when it is cut into parts.',
  }),
  replayed: Type.Boolean({
    description: 'The request had been answered before: this is the same response again.',
  }),
  test: Type.Boolean(),
});
type OfflineAnswerResponse = Static<typeof OfflineAnswerResponse>;

/** What answering can refuse besides authentication, for both the API and the admin route. */
export const OFFLINE_ERRORS = {
  400: ['OFFLINE_REQUEST_INVALID'],
  404: ['DEVICE_NOT_FOUND'],
  409: ['SEATS_FULL', 'OFFLINE_REQUEST_MISMATCH', 'OFFLINE_NONCE_REUSED', 'CONFLICT'],
} as const satisfies ErrorSpec;

export const OFFLINE_DESCRIPTION =
  'Body: { request } (the LK1-REQ text) or { parts } (its QR codes’ contents), optionally format and logProof. `activate` takes a seat for the request’s device key (an active device of that key keeps its seat); `refresh` needs the device active. The answer is the next token of the license, bound to the device, inside the response text (also as QR codes). The same request again gets the same response and no second seat; requests older than 30 days are refused.';

/** Answers a request body for a license the caller is entitled to (key or admin token). */
export async function answerBody(
  fastify: FastifyInstance,
  license: LicenseRecord,
  body: OfflineBody,
): Promise<OfflineAnswerResponse> {
  const ctx = storeContext(fastify);
  const request = await readOfflineInput(
    'request' in body ? { text: body.request } : { parts: body.parts },
  );
  const checked = checkOfflineRequest(license, request, ctx.clock.now());
  const answer = await answerOfflineRequest(ctx, license.id, checked, {
    format: body.format,
    logProof: body.logProof ? (token) => fastify.issuanceLog.bundleForToken(token) : undefined,
  });
  return {
    response: answer.response,
    kind: answer.kind,
    license: answer.license,
    device: answer.device,
    token: answer.token,
    usage: answer.usage,
    qr: await qrSvgs(answer.response, 'Offline response'),
    replayed: answer.replayed,
    test: answer.test,
  };
}

export default async function offlineRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);

  fastify.post(
    '/v1/licenses/offline',
    {
      bodyLimit: OFFLINE_BODY_LIMIT,
      schema: {
        tags: ['licensing'],
        summary: 'Answer an offline activation or refresh request (air-gapped machines)',
        description: `License key in Authorization. ${OFFLINE_DESCRIPTION}`,
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: OfflineBody,
        response: {
          200: described(
            OfflineAnswerResponse,
            'The response for the device: text, QR codes, and the token inside.',
          ),
          ...errorResponses(
            EVERY_OPERATION,
            VALIDATED,
            DATABASE,
            LICENSE_KEY,
            JSON_BODY,
            USABLE_LICENSE,
            SIGNS_TOKENS,
            OFFLINE_ERRORS,
          ),
        },
      },
    },
    async (request) => answerBody(fastify, await licenseFromKey(request), request.body),
  );
}
