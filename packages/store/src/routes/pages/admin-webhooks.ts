import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../errors.js';
import { redeliverMessage } from '../../services/webhook-redelivery.js';
import { webhooksService } from '../../services/webhooks.js';
import { webhookEndpointPage, webhooksPage } from '../../views/admin-webhooks.js';
import type { AdminScope } from './admin.js';
import { signedInFrame } from './admin.js';
import { noticeOf, seeOther, sendPage } from './http.js';

const ENDPOINT_ID = /^whe_[A-Za-z0-9_-]{1,64}$/;
const MESSAGE_ID = /^msg_[A-Za-z0-9_-]{1,64}$/;
const NOTICES: Record<string, string> = {
  redelivered: 'The message is queued for delivery again.',
};

/** Webhook endpoints and their deliveries, with redelivery of one message. */
export default async function adminWebhookRoutes(fastify: FastifyInstance, scope: AdminScope) {
  const service = webhooksService(fastify.db, fastify.secrets);
  const hidden = { schema: { hide: true } };

  async function endpointOrThrow(id: string) {
    const endpoint = ENDPOINT_ID.test(id) ? await service.get(id) : undefined;
    if (!endpoint)
      throw new StoreError('WEBHOOK_ENDPOINT_NOT_FOUND', 'No webhook endpoint has this id.');
    return endpoint;
  }

  fastify.get(`${scope.base}/webhooks`, hidden, async (request, reply) =>
    sendPage(reply, 200, webhooksPage(signedInFrame(request, scope), await service.list())),
  );

  fastify.get<{ Params: { endpointId: string } }>(
    `${scope.base}/webhooks/:endpointId`,
    hidden,
    async (request, reply) => {
      const endpoint = await endpointOrThrow(request.params.endpointId);
      const messages = await service.messages(endpoint.id, 100);
      return sendPage(
        reply,
        200,
        webhookEndpointPage(signedInFrame(request, scope), {
          endpoint,
          messages,
          notice: noticeOf(request.query, NOTICES),
        }),
      );
    },
  );

  fastify.post<{ Params: { endpointId: string; messageId: string } }>(
    `${scope.base}/webhooks/:endpointId/messages/:messageId/redeliver`,
    { schema: { hide: true }, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const endpoint = await endpointOrThrow(request.params.endpointId);
      const { messageId } = request.params;
      if (!MESSAGE_ID.test(messageId))
        throw new StoreError('NOT_FOUND', 'No such message for this endpoint.');
      await redeliverMessage(
        fastify.db,
        { endpointId: endpoint.id, messageId, actor: scope.actor },
        fastify.clock.now(),
      );
      request.log.info(
        { endpoint: endpoint.id, message: messageId, actor: scope.actor },
        'webhook redelivery queued',
      );
      return seeOther(reply, `${scope.base}/webhooks/${endpoint.id}?done=redelivered`);
    },
  );
}
