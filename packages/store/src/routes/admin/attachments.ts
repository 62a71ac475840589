import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import {
  ADMIN_VALIDATED,
  ADMIN_WRITE,
  AdminAttachment,
  AttachmentId,
  RegisterAttachmentInput,
  UploadAttachmentQuery,
} from '../../schemas/admin.js';
import { described, Identifier } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import type { Attachment } from '../../services/attachments.js';
import {
  deleteAttachment,
  listAttachments,
  registerFile,
  uploadFile,
} from '../../services/attachments.js';
import {
  assertProductInScope,
  assertRowInScope,
  scopedProductIds,
  VENDOR_ACCESS,
} from './scope.js';

function attachmentJson(attachment: Attachment) {
  return { ...attachment, createdAt: attachment.createdAt.toISOString() };
}

/**
 * Attachments: upload a file (raw body, streamed to disk, up to the configured maximum),
 * register a file already in dataDir/files, list, delete (the row; the file stays). A
 * vendor token lists, uploads and deletes its own products' files; registering a file
 * already on the server's disk is the operator's (the disk is the store's, not a vendor's).
 */
export default async function attachments(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];

  fastify.get(
    '/v1/admin/attachments',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Attachments of every product (or one)',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { productId: Type.Optional(Identifier) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { attachments: Type.Array(AdminAttachment) },
            { description: 'The attachments, of one product or all.' },
          ),
          ...errorResponses(...ADMIN_VALIDATED),
        },
      },
    },
    async (request) => {
      const owned = await scopedProductIds(request);
      const found = await listAttachments(fastify.db, request.query.productId);
      return {
        attachments: found
          .filter((attachment) => !owned || owned.includes(attachment.productId))
          .map(attachmentJson),
      };
    },
  );

  fastify.post(
    '/v1/admin/attachments',
    {
      bodyLimit: 8 * 1024,
      schema: {
        tags,
        summary: 'Register a file already inside dataDir/files',
        security: [{ bearer: [] }],
        body: RegisterAttachmentInput,
        response: {
          201: described(AdminAttachment, 'The attachment, registered.'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['PRODUCT_NOT_FOUND', 'NOT_FOUND'] }),
        },
      },
    },
    async (request, reply) => {
      const attachment = await registerFile(storeContext(fastify), request.body);
      return reply.status(201).send(attachmentJson(attachment));
    },
  );

  // Uploads arrive as a raw stream: never buffered, counted against the limit on the way.
  // The parser lives in a plugin of its own, so the other routes stay JSON only.
  await fastify.register(async (instance) => {
    const uploads = instance.withTypeProvider<TypeBoxTypeProvider>();
    uploads.addContentTypeParser('application/octet-stream', (_request, payload, done) =>
      done(null, payload),
    );
    uploads.post(
      '/v1/admin/attachments/upload',
      {
        config: VENDOR_ACCESS,
        schema: {
          tags,
          summary: 'Upload a file (Content-Type: application/octet-stream)',
          security: [{ bearer: [] }],
          querystring: UploadAttachmentQuery,
          response: {
            201: described(AdminAttachment, 'The attachment, uploaded and registered.'),
            ...errorResponses(...ADMIN_WRITE, { 404: ['PRODUCT_NOT_FOUND'] }),
          },
        },
      },
      async (request, reply) => {
        if (request.headers['content-type']?.split(';')[0]?.trim() !== 'application/octet-stream')
          throw new StoreError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Upload the file as application/octet-stream.',
          );
        // Refused before the whole body arrived: the rest of it is not read, so the
        // connection cannot carry another request.
        const refuse = () => {
          reply.header('connection', 'close');
          return new StoreError('PAYLOAD_TOO_LARGE');
        };
        // Another vendor's product: refused before the body is read, so the connection
        // closes like for a too-large upload.
        await assertProductInScope(request, request.query.productId).catch((error) => {
          reply.header('connection', 'close');
          throw error;
        });
        const declared = Number(request.headers['content-length']);
        if (declared > fastify.config.operations.attachments.maxUploadBytes) throw refuse();
        try {
          const attachment = await uploadFile(
            storeContext(fastify),
            request.body as Readable,
            request.query,
          );
          return reply.status(201).send(attachmentJson(attachment));
        } catch (error) {
          if (error instanceof StoreError && error.code === 'PAYLOAD_TOO_LARGE') throw refuse();
          throw error;
        }
      },
    );
  });

  fastify.delete(
    '/v1/admin/attachments/:attachmentId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Remove an attachment (its file stays on disk)',
        security: [{ bearer: [] }],
        params: Type.Object({ attachmentId: AttachmentId }),
        response: {
          200: Type.Object(
            { deleted: Type.Literal(true) },
            { description: 'Removed (the file stays on disk).' },
          ),
          ...errorResponses(...ADMIN_WRITE, { 404: ['ATTACHMENT_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const { attachmentId } = request.params;
      await assertRowInScope(request, 'attachments', attachmentId, 'ATTACHMENT_NOT_FOUND');
      if (!(await deleteAttachment(fastify.db, request.params.attachmentId)))
        throw new StoreError('ATTACHMENT_NOT_FOUND');
      return { deleted: true as const };
    },
  );
}
