import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { storeContext } from '../lib/store-context.js';
import { DevMailServer } from '../services/mail-dev-server.js';
import { releaseAllMailClaims } from '../services/mail-outbox.js';
import type { MailSettings } from '../services/mail-settings.js';
import { mailSettings } from '../services/mail-settings.js';
import { smtpTransport } from '../services/mail-transport.js';
import { MailWorker } from '../services/mail-worker.js';

export interface StoreMail {
  settings: MailSettings;
  /** Mail goes out (SMTP_URL or the development server): the portal offers e-mail sign-in. */
  enabled: boolean;
  /** The in-process development server and what it received (mode `dev` only). */
  devInbox: DevMailServer | undefined;
  /** Sends the mail outbox; `flush()` sends what is due now. */
  worker: MailWorker;
}

declare module 'fastify' {
  interface FastifyInstance {
    mail: StoreMail;
  }
}

/**
 * E-mail (services/mail-*.ts): the settings, the transport — SMTP_URL, or the development
 * server started here — and the worker that sends the mail outbox, started when the server
 * is ready and stopped on close, and woken after every request that may have queued mail
 * (any method but GET/HEAD/OPTIONS), as the webhook worker is.
 */
async function mail(fastify: FastifyInstance) {
  const settings = mailSettings(fastify.config);
  const devInbox = settings.mode === 'dev' ? await DevMailServer.start() : undefined;
  const transport =
    settings.mode === 'smtp' && settings.smtpUrl
      ? smtpTransport({ url: settings.smtpUrl })
      : devInbox
        ? smtpTransport({ devPort: devInbox.port })
        : undefined;
  const log = fastify.log.child({ component: 'mail' });
  const worker = new MailWorker({
    ctx: { ...storeContext(fastify), log },
    settings,
    transport,
  });
  fastify.decorate('mail', { settings, enabled: transport !== undefined, devInbox, worker });
  fastify.addHook('onClose', async () => {
    await worker.stop();
    transport?.close();
    await devInbox?.close();
  });

  // Never the SMTP_URL itself: it holds the server's credentials.
  if (devInbox) {
    log.info(
      { port: devInbox.port },
      'e-mail goes to the development mail server in this process; see /dev/mail',
    );
  } else if (transport) log.info('e-mail goes out through SMTP_URL');
  else log.warn({ reason: settings.offReason }, 'e-mail is off');

  fastify.addHook('onReady', async () => {
    // Claims of a killed store would otherwise wait out their lock before going out again.
    if (fastify.dbExclusive) await releaseAllMailClaims(fastify.db);
    worker.start();
  });
  fastify.addHook('onResponse', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS')
      worker.wake();
  });
}

export default fp(mail, { name: 'mail', dependencies: ['database', 'keys'] });
