import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { loadLogKey } from '../lib/log-key.js';
import { issuanceLogRepository } from '../repositories/issuance-log.js';
import {
  appendOnce,
  documentBytes,
  IssuanceLog,
  queueUpkeep,
  sequenceQueued,
} from '../services/issuance-log.js';

declare module 'fastify' {
  interface FastifyInstance {
    issuanceLog: IssuanceLog;
  }
}

/**
 * The issuance log of this store: its key (dataDir/keys/log.json), the issuer certificates
 * logged once each (at start and after a renewal), the sequencer that moves queued
 * documents into the tree every `log.sequenceIntervalMs`, and a checkpoint signed every
 * `log.checkpointIntervalMs` when the log has grown. Tokens and revocation lists are
 * queued where they are recorded (services/tokens.ts, services/revocations.ts).
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
  // Vendors' issuer certificates are logged in the transaction of the token that needed
  // them; a start logs those a rolled-back transaction left out (appendOnce: never twice).
  for (const vendorIssuer of (await keys.vendorKeys?.published()) ?? []) {
    await appendOnce(db, 'certificate', documentBytes(vendorIssuer.certificate), clock.now());
  }

  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  /** Runs `work` every `ms` (0: never), one run at a time, errors logged. */
  const every = (ms: number, what: string, work: () => Promise<unknown>) => {
    if (ms === 0) return;
    let current: Promise<unknown> | undefined;
    const tick = () => {
      if (current) return;
      current = work()
        .catch((error) => fastify.log.error({ err: error }, `issuance log ${what} failed`))
        .finally(() => {
          running.delete(current!);
          current = undefined;
        });
      running.add(current);
    };
    timers.push(setInterval(tick, ms));
  };
  fastify.addHook('onReady', async () => {
    // The sequencer: cheap when nothing is queued (one indexed read).
    const upkeep = queueUpkeep(db);
    every(config.log.sequenceIntervalMs, 'sequencer', async () => {
      if (!(await issuanceLogRepository(db).hasQueued())) return;
      await upkeep.sequenced(await sequenceQueued(db, clock.now()));
    });
    every(config.log.checkpointIntervalMs, 'checkpoint', () =>
      logCertificates().then(() => log.checkpoint()),
    );
    for (const timer of timers) timer.unref();
  });
  fastify.addHook('onClose', async () => {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(running);
  });
}

export default fp(issuanceLog, { name: 'issuance-log', dependencies: ['database', 'keys'] });
