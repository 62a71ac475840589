import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  ADMIN_ROUTE,
  ADMIN_WRITE,
  Revocation,
  RevocationInput,
  RevocationListInfo,
} from '../../schemas/admin.js';
import { described } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import { recordAdminAction } from '../../services/admin-actions.js';
import type { RevocationListRecord } from '../../services/revocations.js';
import { revokeLicense } from '../../services/revocations.js';

function listInfo(list: RevocationListRecord | undefined) {
  return list
    ? { seq: list.seq, source: list.source, issuedAt: list.createdAt.toISOString() }
    : null;
}

/** Revocations (keys, licenses, tokens) and publishing lists signed offline. */
export default async function revocations(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];

  fastify.get(
    '/v1/admin/revocations',
    {
      schema: {
        tags,
        summary: 'Revocations in force and the list being served',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            {
              revocations: Type.Array(Revocation),
              /** Whether this store signs lists itself (it has the root key). */
              signsLists: Type.Boolean(),
              list: Type.Union([RevocationListInfo, Type.Null()]),
            },
            { description: 'Revocations in force, and the list being served.' },
          ),
          ...errorResponses(...ADMIN_ROUTE),
        },
      },
    },
    async () => ({
      revocations: (await fastify.revocations.list()).map((r) => ({
        ...r,
        createdAt: r.createdAt.toISOString(),
      })),
      signsLists: fastify.revocations.signs,
      list: listInfo(await fastify.revocations.current()),
    }),
  );

  fastify.post(
    '/v1/admin/revocations',
    {
      bodyLimit: 4 * 1024,
      schema: {
        tags,
        summary: 'Revoke a signing key (kid), a license (id) or a single token (jti)',
        security: [{ bearer: [] }],
        body: RevocationInput,
        response: {
          200: Type.Object(
            { created: Type.Boolean(), list: Type.Union([RevocationListInfo, Type.Null()]) },
            { description: 'Already revoked: nothing changed.' },
          ),
          201: Type.Object(
            { created: Type.Boolean(), list: Type.Union([RevocationListInfo, Type.Null()]) },
            { description: 'Revoked, and the list served now.' },
          ),
          ...errorResponses(...ADMIN_WRITE, { 409: ['CONFLICT'] }),
        },
      },
    },
    async (request, reply) => {
      const { kind, value, reason } = request.body;
      // A license the store knows is also marked revoked, so refresh refuses it at once.
      let created: boolean;
      if (kind === 'license') {
        const now = fastify.clock.now();
        const revoked = await revokeLicense(
          fastify.db,
          fastify.revocations,
          value,
          reason ?? '',
          now,
        );
        created = revoked.created;
        // A license of this store: on its admin activity, as every other revocation.
        if (revoked.found) {
          await recordAdminAction(
            fastify.db,
            {
              actor: 'admin-api',
              action: 'license.revoked',
              target: value,
              detail: { reason: reason ?? '' },
            },
            now,
          );
        }
      } else {
        ({ created } = await fastify.revocations.revoke(request.body));
      }
      return reply
        .status(created ? 201 : 200)
        .send({ created, list: listInfo(await fastify.revocations.current()) });
    },
  );

  fastify.post(
    '/v1/admin/revocation-lists',
    {
      bodyLimit: 1024 * 1024,
      schema: {
        tags,
        summary: 'Publish a revocation list signed offline with the root key (licensekit revoke)',
        security: [{ bearer: [] }],
        body: Type.Object(
          { list: Type.String({ minLength: 1, maxLength: 1_000_000 }) },
          { additionalProperties: false },
        ),
        response: {
          201: described(RevocationListInfo, 'The list, published: the store serves it now.'),
          ...errorResponses(...ADMIN_WRITE, { 400: ['REVOCATION_LIST_INVALID'] }),
        },
      },
    },
    async (request, reply) => {
      const list = await fastify.revocations.publish(request.body.list);
      return reply.status(201).send(listInfo(list)!);
    },
  );
}
