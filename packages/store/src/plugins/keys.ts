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

declare module 'fastify' {
  interface FastifyInstance {
    keys: StoreKeys;
    secrets: Secrets;
    adminToken: string;
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
  fastify.decorate('keys', storeKeys);
  fastify.decorate('secrets', new Secrets(base64urlDecode(secretText, 'store secret')));
  fastify.decorate('adminToken', adminToken);
}

export default fp(keys, { name: 'keys' });
