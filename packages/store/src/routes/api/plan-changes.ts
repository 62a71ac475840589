import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { licenseFromKey } from '../../lib/license-auth.js';
import { acceptJsonOnly, emptyBodyAsObject } from '../../lib/raw-json.js';
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
  CancelResponse,
  FormatBody,
  LicenseHeaders,
  PlanChangeBody,
  PlanChangeResponse,
  SeatChangeBody,
  UndoResponse,
} from '../../schemas/licenses.js';
import {
  cancelLicense,
  changePlan,
  changeSeats,
  undoPendingChange,
} from '../../services/plan-changes.js';

const BODY_LIMIT = 8 * 1024;
/** What every route of this file can answer besides its own codes. */
const CHANGE_ROUTE = [
  EVERY_OPERATION,
  VALIDATED,
  JSON_BODY,
  DATABASE,
  SIGNS_TOKENS,
  LICENSE_KEY,
  USABLE_LICENSE,
] as const;

/** Plan changes, seat changes and cancellation, authenticated with the license key. */
export default async function planChangeRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);
  const ctx = storeContext(fastify);
  const common = {
    bodyLimit: BODY_LIMIT,
  };

  fastify.post(
    '/v1/licenses/plan',
    {
      ...common,
      schema: {
        tags: ['licensing'],
        summary: 'Preview (confirm: false) or change the plan',
        description:
          'Upgrades take effect at once with a prorated charge; downgrades wait for the end of the period (a pending change carried in tokens as chg). With billingCycle, the plan’s offer on that cycle: month → year at once for the yearly price less the unused part of the month, year → month at the end of the paid year.',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: PlanChangeBody,
        response: {
          200: described(
            PlanChangeResponse,
            'The quote (confirm: false), or the change made: charged and applied at once, or scheduled for the end of the period.',
          ),
          ...errorResponses(...CHANGE_ROUTE, {
            404: ['PLAN_NOT_FOUND'],
            409: ['PLAN_CHANGE_INVALID', 'SEATS_IN_USE', 'BILLING_CYCLE_NOT_OFFERED'],
          }),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      return changePlan(ctx, license.id, request.body);
    },
  );

  fastify.post(
    '/v1/licenses/seats',
    {
      ...common,
      schema: {
        tags: ['licensing'],
        summary: 'Preview (confirm: false) or change the seat count of a per-seat plan',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: SeatChangeBody,
        response: {
          200: described(
            PlanChangeResponse,
            'The quote (confirm: false), or the change made: more seats at once (prorated), fewer at the end of the period.',
          ),
          ...errorResponses(...CHANGE_ROUTE, { 409: ['PLAN_CHANGE_INVALID', 'SEATS_IN_USE'] }),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      return changeSeats(ctx, license.id, request.body);
    },
  );

  fastify.post(
    '/v1/licenses/cancel',
    {
      ...common,
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['licensing'],
        summary: 'Cancel at the end of the period (onto the free plan where one exists)',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: FormatBody,
        response: {
          200: described(
            CancelResponse,
            'The cancellation, effective at the end of the period (at once when past due).',
          ),
          ...errorResponses(...CHANGE_ROUTE, { 409: ['PLAN_CHANGE_INVALID'] }),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      return cancelLicense(ctx, license.id, { format: request.body.format });
    },
  );

  fastify.post(
    '/v1/licenses/cancel/undo',
    {
      ...common,
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['licensing'],
        summary: 'Withdraw a pending cancellation, downgrade or seat decrease',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: FormatBody,
        response: {
          200: described(UndoResponse, 'Nothing is pending any more; a token without `chg`.'),
          ...errorResponses(...CHANGE_ROUTE, { 409: ['PLAN_CHANGE_INVALID'] }),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      return undoPendingChange(ctx, license.id, { format: request.body.format });
    },
  );
}
