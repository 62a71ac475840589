import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { licenseFromKey } from '../../lib/license-auth.js';
import { acceptJsonOnly, emptyBodyAsObject } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import { ErrorResponse } from '../../schemas/common.js';
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
const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  402: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  415: ErrorResponse,
  429: ErrorResponse,
  500: ErrorResponse,
  503: ErrorResponse,
};

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
          'Upgrades take effect at once with a prorated charge; downgrades wait for the end of the period (a pending change carried in tokens as chg).',
        security: [{ bearer: [] }],
        headers: LicenseHeaders,
        body: PlanChangeBody,
        response: { 200: PlanChangeResponse, ...errors },
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
        response: { 200: PlanChangeResponse, ...errors },
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
        response: { 200: CancelResponse, ...errors },
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
        response: { 200: UndoResponse, ...errors },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      return undoPendingChange(ctx, license.id, { format: request.body.format });
    },
  );
}
