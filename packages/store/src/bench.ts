/**
 * The in-process side of `pnpm bench store` (bench/store.mjs), built as dist/bench.js
 * and not part of the package's exports: a license-key refresh exactly as POST
 * /v1/licenses/refresh does it — the same license lookup, the same service call, on the
 * running store's own database — minus HTTP. The benchmark's "database limit" runs this,
 * so its ratio to the route isolates what HTTP and Fastify add. With `issuanceLog: false` it
 * skips the issuance-log append: the baseline of what the log costs a refresh.
 */
import type { FastifyInstance } from 'fastify';

export { createScratchDatabase } from './db/scratch.js';

import { licenseByKey } from './lib/license-auth.js';
import { storeContext } from './lib/store-context.js';
import { refreshWithKey } from './services/refresh.js';

/** What the refresh route answers (200). */
export interface RefreshAnswer {
  token: string;
  test: boolean;
}

/**
 * The refresh route's work for `Authorization: Bearer <key>` and the body `{}` (an
 * unbound token in the default format), as a function of the key.
 */
export function keyRefresher(
  fastify: FastifyInstance,
  client = '127.0.0.1',
  options: { issuanceLog?: boolean } = {},
): (key: string) => Promise<RefreshAnswer> {
  const store = storeContext(fastify);
  // Without the log: the baseline of the log's cost on the refresh path (same store, same
  // database, only the append skipped).
  const ctx =
    options.issuanceLog === false
      ? { ...store, config: { ...store.config, log: { ...store.config.log, append: false } } }
      : store;
  const body = Buffer.from('{}');
  return async (key) => {
    const license = await licenseByKey(fastify, client, key);
    const issued = await refreshWithKey(ctx, license, {
      thumbprint: undefined,
      format: undefined,
      proof: undefined,
      body,
    });
    return { token: issued.token, test: issued.test };
  };
}
