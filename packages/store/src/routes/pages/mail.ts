import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import type { DevMailServer } from '../../services/mail-dev-server.js';
import { devMailListPage, devMailPage } from '../../views/mail-dev.js';
import { sendPage } from './http.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * The development mail page: what the in-process SMTP server received, list and messages.
 * Registered only when that server runs (no SMTP_URL, a store on loopback, not production:
 * services/mail-settings.ts), and answered only to clients on this machine — receipts and
 * sign-in links are credentials, even in development.
 */
export default async function devMailRoutes(
  fastify: FastifyInstance,
  options: { inbox: DevMailServer },
) {
  const { inbox } = options;
  const vendor = fastify.config.vendor;

  const local = (request: FastifyRequest) => {
    if (!LOOPBACK.has(request.ip)) throw new StoreError('NOT_FOUND', 'No such page.');
  };

  fastify.get('/dev/mail', { schema: { hide: true } }, async (request, reply) => {
    local(request);
    return sendPage(reply, 200, devMailListPage({ vendor, mails: inbox.messages() }));
  });

  fastify.get<{ Params: { messageId: string } }>(
    '/dev/mail/:messageId',
    { schema: { hide: true } },
    async (request, reply) => {
      local(request);
      const mail = inbox.message(request.params.messageId);
      if (!mail) throw new StoreError('NOT_FOUND', 'No such mail.');
      return sendPage(
        reply,
        200,
        devMailPage({ vendor, publicUrl: fastify.config.publicUrl, mail }),
      );
    },
  );
}
