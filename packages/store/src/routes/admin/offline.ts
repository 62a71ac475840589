import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { licensesRepository } from '../../repositories/licenses.js';
import { LicenseId } from '../../schemas/admin.js';
import { described } from '../../schemas/common.js';
import {
  ADMIN_TOKEN,
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  JSON_BODY,
  SIGNS_TOKENS,
  USABLE_LICENSE,
  VALIDATED,
} from '../../schemas/error-responses.js';
import {
  answerBody,
  OFFLINE_BODY_LIMIT,
  OFFLINE_DESCRIPTION,
  OFFLINE_ERRORS,
  OfflineAnswerResponse,
  OfflineBody,
} from '../api/offline.js';
import { assertRowInScope, VENDOR_ACCESS } from './scope.js';

/**
 * Offline activation for a vendor's support desk: the customer sends the request their
 * air-gapped machine wrote (by mail, on the phone) and support answers it for the license
 * named in the path — with the same rules, seats and replay as the customer's own route.
 */
export default async function offline(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();

  fastify.post(
    '/v1/admin/licenses/:licenseId/offline',
    {
      bodyLimit: OFFLINE_BODY_LIMIT,
      config: VENDOR_ACCESS,
      schema: {
        tags: ['admin'],
        summary: 'Answer an offline activation or refresh request for a license',
        description: OFFLINE_DESCRIPTION,
        security: [{ bearer: [] }],
        params: Type.Object({ licenseId: LicenseId }),
        body: OfflineBody,
        response: {
          200: described(
            OfflineAnswerResponse,
            'The response for the device: text, QR codes, and the token inside.',
          ),
          ...errorResponses(
            EVERY_OPERATION,
            DATABASE,
            ADMIN_TOKEN,
            JSON_BODY,
            VALIDATED,
            USABLE_LICENSE,
            SIGNS_TOKENS,
            OFFLINE_ERRORS,
            {
              404: ['NOT_FOUND'],
            },
          ),
        },
      },
    },
    async (request) => {
      // A vendor's support desk answers for its own products' licenses only.
      await assertRowInScope(
        request,
        'licenses',
        request.params.licenseId,
        'NOT_FOUND',
        'No such license.',
      );
      const license = await licensesRepository(fastify.db).byId(request.params.licenseId);
      if (!license) throw new StoreError('NOT_FOUND', 'No such license.');
      return answerBody(fastify, license, request.body);
    },
  );
}
