import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { licenseFromKey } from '../../lib/license-auth.js';
import { acceptJsonOnly } from '../../lib/raw-json.js';
import { ErrorResponse, licenseErrors } from '../../schemas/common.js';
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
          202: UsageReportAccepted,
          ...licenseErrors,
          413: ErrorResponse,
          415: ErrorResponse,
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
        response: { 200: QuotasResponse, ...licenseErrors },
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
