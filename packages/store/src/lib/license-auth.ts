import type { FastifyRequest } from 'fastify';
import { StoreError } from '../errors.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import { bearer } from './auth.js';
import { normaliseLicenseKey } from './ids.js';

/** The domain of license-key hashes (see Secrets.keyedHash). */
export const LICENSE_KEY_DOMAIN = 'license-key';

/**
 * The license a request is authenticated for, by its license key in
 * `Authorization: Bearer LK-…` (never in a URL, so it stays out of access logs).
 * Failed lookups count against the client; past the limit every lookup is 429.
 */
export async function licenseFromKey(
  request: FastifyRequest,
  key = bearer(request),
): Promise<LicenseRecord> {
  const { failureLimiter, secrets, db } = request.server;
  const client = request.ip;
  if (failureLimiter.isBlocked(client)) throw new StoreError('TOO_MANY_REQUESTS');
  if (key === undefined)
    throw new StoreError('UNAUTHORIZED', 'Send the license key as Authorization: Bearer <key>.');
  const license = await licensesRepository(db).byKeyHash(
    secrets.keyedHash(LICENSE_KEY_DOMAIN, normaliseLicenseKey(key)),
  );
  if (!license) {
    failureLimiter.fail(client);
    throw new StoreError('LICENSE_NOT_FOUND');
  }
  return license;
}
