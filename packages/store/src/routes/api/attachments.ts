import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { licenseFromKey } from '../../lib/license-auth.js';
import { storeContext } from '../../lib/store-context.js';
import { AttachmentId } from '../../schemas/admin.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  LICENSE_KEY,
  USABLE_LICENSE,
  VALIDATED,
} from '../../schemas/error-responses.js';
import { listAttachments, streamAttachment } from '../../services/attachments.js';

const PublicAttachment = Type.Object({
  id: Type.String(),
  name: Type.String(),
  size: Type.Integer(),
  contentType: Type.String(),
  /** The quota one download spends (see the metering rule), or null when free. */
  quota: Type.Union([Type.String(), Type.Null()]),
  url: Type.String(),
});

/** A file download as the document shows it: bytes of any type, with the quota left. */
function download(description: string) {
  return {
    description,
    headers: {
      'licensekit-quota-remaining': Type.Integer({
        description: 'Units of the attachment’s quota left (metered files only).',
      }),
    },
    content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
  };
}

/** Product files for license holders: list, and download with Range support. */
export default async function attachments(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();

  fastify.get(
    '/v1/attachments',
    {
      schema: {
        tags: ['attachments'],
        summary: 'Files of the licensed product',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            { attachments: Type.Array(PublicAttachment) },
            { description: 'The files of the licensed product.' },
          ),
          ...errorResponses(EVERY_OPERATION, DATABASE, LICENSE_KEY),
        },
      },
    },
    async (request) => {
      const license = await licenseFromKey(request);
      const files = await listAttachments(fastify.db, license.productId);
      return {
        attachments: files.map((file) => ({
          id: file.id,
          name: file.name,
          size: file.size,
          contentType: file.contentType,
          quota: file.quota,
          url: `${fastify.config.publicUrl}/v1/attachments/${file.id}`,
        })),
      };
    },
  );

  fastify.get(
    '/v1/attachments/:attachmentId',
    {
      schema: {
        tags: ['attachments'],
        summary:
          'Download a file (single byte ranges supported; the first request spends one quota unit)',
        security: [{ bearer: [] }],
        params: Type.Object({ attachmentId: AttachmentId }),
        response: {
          200: download('The whole file, in its own content type.'),
          206: download('The byte range asked for (Content-Range says which).'),
          ...errorResponses(EVERY_OPERATION, VALIDATED, DATABASE, LICENSE_KEY, USABLE_LICENSE, {
            403: ['QUOTA_EXHAUSTED'],
            404: ['ATTACHMENT_NOT_FOUND'],
            416: ['RANGE_NOT_SATISFIABLE'],
          }),
        },
      },
    },
    async (request, reply) => {
      const license = await licenseFromKey(request);
      return streamAttachment(storeContext(fastify), request, reply, {
        license,
        attachmentId: request.params.attachmentId,
      });
    },
  );
}
