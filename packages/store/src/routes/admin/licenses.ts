import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { vendorScope } from '../../lib/auth.js';
import { emptyBodyAsObject } from '../../lib/raw-json.js';
import { storeContext } from '../../lib/store-context.js';
import type { LicenseRecord } from '../../repositories/licenses.js';
import {
  ADMIN_VALIDATED,
  ADMIN_WRITE,
  AdminLicense,
  AdminLicenseDetail,
  LicenseId,
  LicenseStatus,
  PageQuery,
  pageLimit,
  RevokeBody,
} from '../../schemas/admin.js';
import { described, Identifier } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import { QuotaState } from '../../schemas/usage.js';
import { getLicenseDetail, listLicenses } from '../../services/admin.js';
import { revokeWithAudit } from '../../services/order-refunds.js';
import { quotaStates } from '../../services/usage.js';
import { assertRowInScope, scopedProductIds, VENDOR_ACCESS } from './scope.js';

/** Another vendor's license reads exactly as a missing one. */
const NO_LICENSE = ['NOT_FOUND', 'No such license.'] as const;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** The detail with its quotas typed as the public QuotaState, so `overuse` is documented too. */
const LicenseDetailResponse = Type.Object({
  ...AdminLicenseDetail.properties,
  quotas: Type.Record(Type.String(), QuotaState),
});

function licenseJson(license: LicenseRecord & { customerEmail: string }) {
  return {
    id: license.id,
    customerId: license.customerId,
    customerEmail: license.customerEmail,
    productId: license.productId,
    planId: license.planId,
    keyHint: license.keyHint,
    status: license.status,
    seats: license.seats,
    anchor: license.anchor.toISOString(),
    periodStart: license.periodStart.toISOString(),
    periodEnd: iso(license.periodEnd),
    trialEnd: iso(license.trialEnd),
    pendingChange: (license.pendingChange as Record<string, unknown> | null) ?? null,
    seq: license.seq,
    test: license.test,
    createdAt: license.createdAt.toISOString(),
    cancelledAt: iso(license.cancelledAt),
    revokedAt: iso(license.revokedAt),
  };
}

/**
 * Licenses: list with filters, one license with devices and quotas, revoke. Open to vendor
 * tokens for the licenses of their own products.
 */
export default async function licenses(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];

  async function detail(id: string) {
    const found = await getLicenseDetail(fastify.db, id);
    if (!found) throw new StoreError('NOT_FOUND', 'No such license.');
    return {
      license: licenseJson(found.license),
      devices: found.devices.map((d) => ({
        ...d,
        activatedAt: d.activatedAt.toISOString(),
        lastSeenAt: iso(d.lastSeenAt),
        deactivatedAt: iso(d.deactivatedAt),
      })),
      tokens: { issued: found.tokens.issued, lastIssuedAt: iso(found.tokens.lastIssuedAt) },
      quotas: await quotaStates(fastify.db, found.license, fastify.clock.now()),
    };
  }

  fastify.get(
    '/v1/admin/licenses',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Licenses, newest first',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(LicenseStatus),
            productId: Type.Optional(Identifier),
            customerEmail: Type.Optional(Type.String({ maxLength: 320 })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              licenses: Type.Array(AdminLicense),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            },
            { description: 'A page of licenses; pass `nextCursor` as `cursor` for the next.' },
          ),
          ...errorResponses(...ADMIN_VALIDATED),
        },
      },
    },
    async (request) => {
      const { limit, status, ...filters } = request.query;
      const page = await listLicenses(fastify.db, {
        ...filters,
        productIds: await scopedProductIds(request),
        status: status as LicenseRecord['status'] | undefined,
        limit: pageLimit(limit),
      });
      return { licenses: page.items.map(licenseJson), nextCursor: page.nextCursor };
    },
  );

  fastify.get(
    '/v1/admin/licenses/:licenseId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'One license with its devices, tokens and quotas',
        security: [{ bearer: [] }],
        params: Type.Object({ licenseId: LicenseId }),
        response: {
          200: described(
            LicenseDetailResponse,
            'The license with its devices, the tokens issued and its quota state.',
          ),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      await assertRowInScope(request, 'licenses', request.params.licenseId, ...NO_LICENSE);
      return detail(request.params.licenseId);
    },
  );

  fastify.post(
    '/v1/admin/licenses/:licenseId/revoke',
    {
      config: VENDOR_ACCESS,
      bodyLimit: 4 * 1024,
      // The body is optional: no body reads as {}.
      preValidation: emptyBodyAsObject,
      schema: {
        tags,
        summary:
          'Revoke a license: refresh answers 403 from now on, and the next revocation list names it',
        security: [{ bearer: [] }],
        params: Type.Object({ licenseId: LicenseId }),
        body: RevokeBody,
        response: {
          200: Type.Object(
            {
              license: AdminLicense,
              revocationList: Type.Union([Type.Object({ seq: Type.Integer() }), Type.Null()]),
            },
            { description: 'The license, revoked, and the revocation list that names it.' },
          ),
          ...errorResponses(...ADMIN_WRITE, { 404: ['NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const { licenseId } = request.params;
      await assertRowInScope(request, 'licenses', licenseId, ...NO_LICENSE);
      const exists = await getLicenseDetail(fastify.db, licenseId);
      if (!exists) throw new StoreError('NOT_FOUND', 'No such license.');
      // With its entry on the license's admin activity, whoever revoked it (a vendor's
      // token or the operator's): the admin screen's own revoke writes one too.
      const vendorId = vendorScope(request);
      await revokeWithAudit(
        { ...storeContext(fastify), revocations: fastify.revocations },
        licenseId,
        {
          reason: request.body?.reason ?? '',
          actor: vendorId === undefined ? 'admin-api' : `vendor:${vendorId}`,
        },
      );
      const list = await fastify.revocations.current();
      return {
        license: (await detail(licenseId)).license,
        revocationList: list ? { seq: list.seq } : null,
      };
    },
  );
}
