import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { vendorScope } from '../../lib/auth.js';
import {
  ADMIN_ROUTE,
  ADMIN_VALIDATED,
  ADMIN_WRITE,
  LimitQuery,
  pageLimit,
} from '../../schemas/admin.js';
import { described } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import {
  CreatedWebhookEndpoint,
  WebhookEndpoint,
  WebhookEndpointId,
  WebhookEndpointInput,
  WebhookMessage,
} from '../../schemas/webhooks.js';
import type {
  WebhookEndpoint as Endpoint,
  WebhookMessage as Message,
} from '../../services/webhooks.js';
import { webhooksService } from '../../services/webhooks.js';
import { VENDOR_ACCESS } from './scope.js';

function endpointJson(endpoint: Endpoint) {
  return { ...endpoint, createdAt: endpoint.createdAt.toISOString() };
}

function messageJson(message: Message) {
  return {
    ...message,
    nextAttemptAt: message.nextAttemptAt?.toISOString() ?? null,
    deliveredAt: message.deliveredAt?.toISOString() ?? null,
    failedAt: message.failedAt?.toISOString() ?? null,
    createdAt: message.createdAt.toISOString(),
  };
}

/**
 * Webhook endpoints: create (the secret is shown once), list, inspect deliveries, delete.
 * Open to vendor tokens: a vendor's endpoints are its own, get only its products' events,
 * must be on public addresses (no probing of the operator's network), and another
 * vendor's endpoint is not found.
 */
export default async function webhooks(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const service = webhooksService(fastify.db, fastify.secrets, {
    vendorPrivateTargets: fastify.config.operations.webhooks.vendorPrivateTargets,
  });
  const tags = ['admin'];
  const params = Type.Object({ endpointId: WebhookEndpointId });

  fastify.get(
    '/v1/admin/webhooks',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Webhook endpoints with delivery counts',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            { endpoints: Type.Array(WebhookEndpoint) },
            { description: 'Every endpoint with its pending, delivered and failed counts.' },
          ),
          ...errorResponses(...ADMIN_ROUTE),
        },
      },
    },
    async (request) => ({
      endpoints: (await service.list(vendorScope(request))).map(endpointJson),
    }),
  );

  fastify.post(
    '/v1/admin/webhooks',
    {
      config: VENDOR_ACCESS,
      bodyLimit: 8 * 1024,
      schema: {
        tags,
        summary: 'Add an endpoint; the answer holds its signing secret, shown this once',
        security: [{ bearer: [] }],
        body: WebhookEndpointInput,
        response: {
          201: described(
            CreatedWebhookEndpoint,
            'The endpoint and its signing secret (shown in this answer only).',
          ),
          ...errorResponses(...ADMIN_WRITE, { 400: ['WEBHOOK_URL_NOT_PUBLIC'] }),
        },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await service.create(
        request.body,
        fastify.clock.now(),
        vendorScope(request),
      );
      return reply.status(201).send({ endpoint: endpointJson(endpoint), secret });
    },
  );

  fastify.get(
    '/v1/admin/webhooks/:endpointId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'One endpoint',
        security: [{ bearer: [] }],
        params,
        response: {
          200: described(WebhookEndpoint, 'The endpoint with its delivery counts.'),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['WEBHOOK_ENDPOINT_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const endpoint = await service.get(request.params.endpointId, vendorScope(request));
      if (!endpoint) throw new StoreError('WEBHOOK_ENDPOINT_NOT_FOUND');
      return endpointJson(endpoint);
    },
  );

  fastify.get(
    '/v1/admin/webhooks/:endpointId/messages',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Recent messages of an endpoint and their delivery state',
        security: [{ bearer: [] }],
        params,
        querystring: Type.Object(
          { limit: Type.Optional(LimitQuery) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { messages: Type.Array(WebhookMessage) },
            { description: 'Recent messages, newest first, with attempts and the last error.' },
          ),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['WEBHOOK_ENDPOINT_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      if (!(await service.get(request.params.endpointId, vendorScope(request))))
        throw new StoreError('WEBHOOK_ENDPOINT_NOT_FOUND');
      const messages = await service.messages(
        request.params.endpointId,
        pageLimit(request.query.limit),
      );
      return { messages: messages.map(messageJson) };
    },
  );

  fastify.delete(
    '/v1/admin/webhooks/:endpointId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Delete an endpoint and its undelivered messages',
        security: [{ bearer: [] }],
        params,
        response: {
          200: Type.Object(
            { deleted: Type.Literal(true) },
            { description: 'Deleted, with its undelivered messages.' },
          ),
          ...errorResponses(...ADMIN_WRITE, { 404: ['WEBHOOK_ENDPOINT_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      if (!(await service.remove(request.params.endpointId, vendorScope(request))))
        throw new StoreError('WEBHOOK_ENDPOINT_NOT_FOUND');
      return { deleted: true as const };
    },
  );
}
