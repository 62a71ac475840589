import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { emptyBodyAsObject } from '../../lib/raw-json.js';
import { vendorById } from '../../marketplace/vendors.js';
import { ADMIN_VALIDATED, ADMIN_WRITE } from '../../schemas/admin.js';
import { described } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import { VendorId } from '../../schemas/marketplace.js';
import type { VendorTokenInfo } from '../../services/vendor-tokens.js';
import {
  createVendorToken,
  listVendorTokens,
  revokeVendorToken,
} from '../../services/vendor-tokens.js';

const DateTime = Type.String({ format: 'date-time' });
const VendorTokenId = Type.String({ pattern: '^vtk_[A-Za-z0-9_-]{1,64}$' });

const VendorToken = Type.Object({
  id: Type.String(),
  vendorId: Type.String(),
  label: Type.String(),
  createdAt: DateTime,
  revokedAt: Type.Union([DateTime, Type.Null()]),
});

function tokenJson(token: VendorTokenInfo) {
  return {
    ...token,
    createdAt: token.createdAt.toISOString(),
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}

/**
 * A vendor's admin tokens (operator only: no route here is open to vendor tokens, so a
 * vendor can neither mint another token nor revoke the operator's view of its tokens).
 */
export default async function vendorTokens(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin: marketplace'];
  const security = [{ bearer: [] }];
  const params = Type.Object({ vendorId: VendorId });

  fastify.post(
    '/v1/admin/vendors/:vendorId/tokens',
    {
      bodyLimit: 4 * 1024,
      preValidation: emptyBodyAsObject,
      schema: {
        tags,
        summary: 'Create an admin token for a vendor, scoped to its products (shown this once)',
        security,
        params,
        body: Type.Object(
          { label: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: {
          201: described(
            Type.Object({
              ...VendorToken.properties,
              token: Type.String({
                description: 'The token (`lkv_…`): shown in this answer only.',
              }),
            }),
            'The token, shown in this answer only: the store keeps only its keyed hash.',
          ),
          ...errorResponses(...ADMIN_WRITE, { 404: ['VENDOR_NOT_FOUND'] }),
        },
      },
    },
    async (request, reply) => {
      const { vendorId } = request.params;
      const created = await createVendorToken(
        fastify.db,
        fastify,
        vendorId,
        request.body?.label ?? '',
      );
      const [info] = (await listVendorTokens(fastify.db, vendorId)).filter(
        (token) => token.id === created.id,
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...tokenJson(info!), token: created.token });
    },
  );

  fastify.get(
    '/v1/admin/vendors/:vendorId/tokens',
    {
      schema: {
        tags,
        summary: 'A vendor’s admin tokens, revoked ones too (never the token itself)',
        security,
        params,
        response: {
          200: Type.Object(
            { tokens: Type.Array(VendorToken) },
            { description: 'The vendor’s tokens, oldest first.' },
          ),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['VENDOR_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const { vendorId } = request.params;
      if (!(await vendorById(fastify.db, vendorId))) throw new StoreError('VENDOR_NOT_FOUND');
      return { tokens: (await listVendorTokens(fastify.db, vendorId)).map(tokenJson) };
    },
  );

  fastify.delete(
    '/v1/admin/vendors/:vendorId/tokens/:tokenId',
    {
      schema: {
        tags,
        summary: 'Revoke a vendor token: it answers 401 from the next request on',
        security,
        params: Type.Object({ vendorId: VendorId, tokenId: VendorTokenId }),
        response: {
          200: described(VendorToken, 'The token, revoked (revoking again changes nothing).'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const { vendorId, tokenId } = request.params;
      const revoked = await revokeVendorToken(fastify.db, fastify, vendorId, tokenId);
      if (!revoked) throw new StoreError('NOT_FOUND', 'No such token for this vendor.');
      return tokenJson(revoked);
    },
  );
}
