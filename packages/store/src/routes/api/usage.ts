import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { licenseFromKey } from '../../lib/license-auth.js';
import { acceptJsonOnly } from '../../lib/raw-json.js';
import { described } from '../../schemas/common.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  JSON_BODY,
  LICENSE_KEY,
} from '../../schemas/error-responses.js';
import type { UsageReport } from '../../schemas/usage.js';
import { QuotasResponse, UsageReportAccepted, UsageReportBody } from '../../schemas/usage.js';
import { quotaStates, recordUsageReport, verifySignedReport } from '../../services/usage.js';

/**
 * Usage reports from the verifier's offline ledger, and the quota state the store knows.
 * A report is either signed by the device key (`{ "signed": "<lic-usage+jwt>" }`, no
 * license key needed: the signature of an active device of the license authenticates it)
 * or the plain report with the license key as the bearer credential.
 */
export default async function usage(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  acceptJsonOnly(fastify);

  fastify.post(
    '/v1/licenses/usage',
    {
      bodyLimit: 32 * 1024,
      schema: {
        tags: ['licenses'],
        summary: 'Report quota usage from the app’s ledger',
        security: [{ bearer: [] }, {}],
        body: UsageReportBody,
        response: {
          202: described(
            UsageReportAccepted,
            'Recorded: the highest count per quota, window and device is kept; quotas the plan lacks and windows ahead are ignored (listed).',
          ),
          ...errorResponses(EVERY_OPERATION, JSON_BODY, DATABASE, LICENSE_KEY, {
            400: ['USAGE_REPORT_INVALID'],
            401: ['USAGE_REPORT_UNTRUSTED'],
            403: ['LICENSE_REVOKED'],
          }),
        },
      },
    },
    async (request, reply) => {
      const { db, clock } = fastify;
      let result: { license: { id: string } } & Awaited<ReturnType<typeof recordUsageReport>>;
      if ('signed' in request.body) {
        const { license, report, device } = await verifySignedReport(db, request.body.signed);
        result = {
          license,
          ...(await recordUsageReport(db, license, report, device, clock.now())),
        };
      } else {
        const report = request.body as UsageReport;
        const license = await licenseFromKey(request);
        const device = report.device ?? 'unsigned';
        result = {
          license,
          ...(await recordUsageReport(db, license, report, device, clock.now())),
        };
      }
      return reply.status(202).send({
        license: result.license.id,
        accepted: result.accepted,
        ignored: result.ignored,
      });
    },
  );

  fastify.get(
    '/v1/licenses/quotas',
    {
      schema: {
        tags: ['licenses'],
        summary: 'Limit, use, remaining and reset of each quota of the license',
        security: [{ bearer: [] }],
        response: {
          200: described(
            QuotasResponse,
            'Per quota of the plan: limit, used, remaining, overuse and the current window.',
          ),
          ...errorResponses(EVERY_OPERATION, DATABASE, LICENSE_KEY),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      return {
        license: license.id,
        quotas: await quotaStates(fastify.db, license, fastify.clock.now()),
      };
    },
  );
}
