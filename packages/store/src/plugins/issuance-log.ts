import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { loadLogKey } from '../lib/log-key.js';
import { appendOnce, documentBytes, IssuanceLog } from '../services/issuance-log.js';

declare module 'fastify' {
  interface FastifyInstance {
    issuanceLog: IssuanceLog;
  }
}

/**
 * The issuance log of this store: its key (dataDir/keys/log.json), the issuer certificates
 * logged once each (at start and after a renewal), and a checkpoint signed every
 * `log.checkpointIntervalMs` when the log has grown. Tokens and revocation lists are
 * appended where they are recorded (services/tokens.ts, services/revocations.ts).
 */
async function issuanceLog(fastify: FastifyInstance) {
  const { config, keys, db, clock } = fastify;
  const key = await loadLogKey(config.dataDir, config.log.origin, config.publicUrl);
  const log = new IssuanceLog(db, key, () => clock.now());
  fastify.decorate('issuanceLog', log);

  // The certificates in force, logged when first seen: recertify() replaces them in place.
  let logged = '';
  const logCertificates = async () => {
    const current = `${keys.certificates.cwt}\n${keys.certificates.jwt}`;
    if (current === logged) return;
    for (const certificate of new Set([keys.certificates.cwt, keys.certificates.jwt])) {
      await appendOnce(db, 'certificate', documentBytes(certificate), clock.now());
    }
    logged = current;
  };
  await logCertificates();

  const { checkpointIntervalMs } = config.log;
  if (checkpointIntervalMs === 0) return;
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    running ??= logCertificates()
      .then(() => log.checkpoint())
      .catch((error) => fastify.log.error({ err: error }, 'issuance log checkpoint failed'))
      .finally(() => {
        running = undefined;
      });
  };
  fastify.addHook('onReady', async () => {
    timer = setInterval(tick, checkpointIntervalMs);
    timer.unref();
  });
  fastify.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    await running;
  });
}

export default fp(issuanceLog, { name: 'issuance-log', dependencies: ['database', 'keys'] });
