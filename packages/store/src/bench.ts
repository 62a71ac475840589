/**
 * The in-process sides of `pnpm bench store` (bench/store.mjs), built as dist/bench.js and
 * not part of the package's exports.
 * - keyRefresher: a license-key refresh exactly as POST /v1/licenses/refresh does it — the
 *   same license lookup, the same service call, on the running store's own database —
 *   minus HTTP (the "in-process refresh": signing included). Its ratio to the route
 *   isolates what HTTP and Fastify add. With `issuanceLog: false` it skips the
 *   issuance-log queue row: the baseline of what the log costs a refresh.
 * - rawRefresher: the same statements with the same parameters sent straight to the
 *   database handle (the driver's query, unwrapped of nothing but `.rows`) — no signing, no
 *   services: what the database alone allows.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export { createScratchDatabase } from './db/scratch.js';

import { clientKey } from './lib/failure-limiter.js';
import { normaliseLicenseKey } from './lib/ids.js';
import { LICENSE_KEY_DOMAIN, licenseByKey } from './lib/license-auth.js';
import { storeContext } from './lib/store-context.js';
import { KEY_LOOKUP_SQL } from './repositories/licenses.js';
import { tokenWriteStatement } from './repositories/tokens.js';
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
  // database, only the queue row skipped).
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

/**
 * An unbound key refresh's statements without the store around them: the key lookup
 * (KEY_LOOKUP_SQL) and the token write (tokenWriteStatement, compare-and-set on the
 * version the lookup answered, queued for the log as the store's config says), sent with
 * the store's own database handle. The token is `sample` (a real token's text, so rows
 * have the real size) under a fresh random hash and jti; nothing is signed. Throws when a
 * write does not happen (a lost race: give each caller licenses of its own). With
 * `issuanceLog: false` the queue row is left out whatever the config says (what the row
 * costs the database alone: bench/log-cost.mjs).
 */
export function rawRefresher(
  fastify: FastifyInstance,
  sample: string,
  client = '127.0.0.1',
  options: { issuanceLog?: boolean } = {},
): (key: string) => Promise<void> {
  const { db, secrets, config } = fastify;
  const logged = config.log.append && options.issuanceLog !== false;
  const limited = clientKey(client);
  const hashes = new Map<string, string>();
  return async (key) => {
    let keyHash = hashes.get(key);
    if (keyHash === undefined) {
      keyHash = secrets.keyedHash(LICENSE_KEY_DOMAIN, normaliseLicenseKey(key));
      hashes.set(key, keyHash);
    }
    const [license] = await db.query<{
      id: string | null;
      seq: number;
      last_token_hash: string | null;
      row_version: string;
    }>(KEY_LOOKUP_SQL, [keyHash, limited]);
    if (!license?.id) throw new Error('raw refresh: no license for this key');
    const now = new Date();
    const { sql, params } = tokenWriteStatement({
      token: {
        jti: randomBytes(16).toString('base64url'),
        licenseId: license.id,
        seq: license.seq + 1,
        hash: randomBytes(32).toString('base64url'),
        prev: license.last_token_hash,
        format: 'cwt',
        token: sample,
        issuedAt: now,
        expiresAt: new Date(now.getTime() + 30 * 86_400_000),
      },
      device: { kind: 'unbound' },
      expectedVersion: license.row_version,
      // Any 32 bytes: the sequencer takes the leaf hash as queued, without re-reading it.
      log: logged && { leafHash: randomBytes(32) },
    });
    const [row] = await db.query<{ issued: number }>(sql, params);
    if (Number(row?.issued) !== 1) throw new Error('raw refresh: the write lost a race');
  };
}
