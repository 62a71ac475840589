import { randomBytes } from 'node:crypto';
import { base64urlDecode, base64urlEncode } from '@licensekit/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { StoreConfig } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { seconds } from '../lib/clock.js';
import { ensureSecretFile } from '../lib/data-dir.js';
import type { StoreKeys } from '../lib/keys.js';
import { loadStoreKeys } from '../lib/keys.js';
import { Secrets } from '../lib/secrets.js';
import { VendorKeyring } from '../lib/vendor-keys.js';

declare module 'fastify' {
  interface FastifyInstance {
    keys: StoreKeys;
    secrets: Secrets;
    adminToken: string;
    /** Checks the issuer certificate now and renews it when it is near its end. */
    recertify(): Promise<void>;
  }
}

/**
 * Key material, all from 0600 files in the data directory (generated on first start) or
 * the environment: the signing keys, the store secret for keyed hashes, the admin token.
 */
async function keys(fastify: FastifyInstance, options: { config: StoreConfig; clock: Clock }) {
  const { config } = options;
  const { keys: storeKeys, generated } = await loadStoreKeys(
    config.dataDir,
    config.vendor,
    seconds(options.clock.now()),
  );
  if (generated)
    fastify.log.info(
      { kid: storeKeys.issuer.kid, root: storeKeys.rootPublicJwk.kid },
      'generated dev keys',
    );
  const secretText =
    process.env.LICENSEKIT_SECRET ??
    (await ensureSecretFile(config.dataDir, 'secret', () => base64urlEncode(Secrets.generate())));
  const adminToken =
    config.adminToken ??
    (await ensureSecretFile(
      config.dataDir,
      'admin-token',
      () => `lka_${base64urlEncode(randomBytes(24))}`,
    ));
  // Vendors other than the store's own sign with issuer keys of their own (issue 10).
  storeKeys.vendorKeys = new VendorKeyring(config.dataDir, config.vendor);
  fastify.decorate('keys', storeKeys);
  fastify.decorate('secrets', new Secrets(base64urlDecode(secretText, 'store secret')));
  fastify.decorate('adminToken', adminToken);

  // A store that runs for months must not reach the end of its issuer certificate: check
  // twice a day and re-certify (loadStoreKeys does it 30 days ahead when the root key is at
  // hand). The keys object is updated in place, so every service sees the new certificate.
  let timer: NodeJS.Timeout | undefined;
  const recertify = async () => {
    try {
      const { keys: fresh } = await loadStoreKeys(
        config.dataDir,
        config.vendor,
        seconds(options.clock.now()),
      );
      if (fresh.certificate !== storeKeys.certificate) {
        Object.assign(storeKeys, fresh);
        fastify.log.info(
          { kid: fresh.issuer.kid, until: fresh.certificateExpiresAt },
          'issuer certificate renewed',
        );
      }
    } catch (error) {
      fastify.log.error({ err: error }, 'issuer certificate check failed');
    }
  };
  fastify.decorate('recertify', recertify);
  fastify.addHook('onReady', async () => {
    timer = setInterval(() => void recertify(), RECERTIFY_INTERVAL_MS);
    timer.unref();
  });
  fastify.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
  });
}

const RECERTIFY_INTERVAL_MS = 12 * 3_600_000;

export default fp(keys, { name: 'keys' });
