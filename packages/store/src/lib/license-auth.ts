import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoreError } from '../errors.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import { bearer } from './auth.js';
import { BLOCKED, clientKey } from './failure-limiter.js';
import { normaliseLicenseKey } from './ids.js';

/** The domain of license-key hashes (see Secrets.keyedHash). */
export const LICENSE_KEY_DOMAIN = 'license-key';

/**
 * The license a request is authenticated for, by its license key in
 * `Authorization: Bearer LK-…` (never in a URL, so it stays out of access logs).
 * Failed lookups count against the client (an IPv4 address or an IPv6 /64); past the
 * limit every lookup is 429, without touching the database.
 */
export function licenseFromKey(
  request: FastifyRequest,
  key = bearer(request),
): Promise<LicenseRecord> {
  return licenseByKey(request.server, request.ip, key);
}

/** {@link licenseFromKey} without the request: `client` is who failed lookups count against. */
export async function licenseByKey(
  server: Pick<FastifyInstance, 'failureLimiter' | 'secrets' | 'db'>,
  client: string,
  key: string | undefined,
): Promise<LicenseRecord> {
  const { failureLimiter, secrets, db } = server;
  const limited = clientKey(client);
  if (failureLimiter.isBlocked(limited)) throw new StoreError('TOO_MANY_REQUESTS');
  if (key === undefined)
    throw new StoreError('UNAUTHORIZED', 'Send the license key as Authorization: Bearer <key>.');
  const license = await failureLimiter.run(limited, () =>
    licensesRepository(db).byKeyHash(
      secrets.keyedHash(LICENSE_KEY_DOMAIN, normaliseLicenseKey(key)),
    ),
  );
  if (license === BLOCKED) throw new StoreError('TOO_MANY_REQUESTS');
  if (!license) throw new StoreError('LICENSE_NOT_FOUND');
  return license;
}
