import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoreError } from '../errors.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import { bearer } from './auth.js';
import { Blocked, clientKey } from './failure-limiter.js';
import { normaliseLicenseKey } from './ids.js';

/** The domain of license-key hashes (see Secrets.keyedHash). */
export const LICENSE_KEY_DOMAIN = 'license-key';

/** TOO_MANY_REQUESTS from the failure limiter, with how long the client has to wait. */
export class KeyGuessesExhausted extends StoreError {
  constructor(blocked: Blocked) {
    super('TOO_MANY_REQUESTS');
    this.retryAfterSeconds = blocked.retryAfterSeconds;
  }
}

/**
 * The license a request is authenticated for, by its license key in
 * `Authorization: Bearer LK-…` (never in a URL, so it stays out of access logs).
 * Failed lookups count against the client (an IPv4 address or an IPv6 /64); past the
 * limit every lookup is 429 with `Retry-After`.
 */
export async function licenseFromKey(
  request: FastifyRequest,
  key = bearer(request),
): Promise<LicenseRecord> {
  return licenseByKey(request.server, request.ip, key);
}

/**
 * {@link licenseFromKey} without the request: `client` is who failed lookups count against.
 * A client this instance knows to be blocked is refused without touching the database;
 * otherwise one statement finds the license and the client's shared failure count.
 */
export async function licenseByKey(
  server: Pick<FastifyInstance, 'failureLimiter' | 'secrets' | 'db'>,
  client: string,
  key: string | undefined,
): Promise<LicenseRecord> {
  const { failureLimiter, secrets, db } = server;
  const limited = clientKey(client);
  const blocked = failureLimiter.blocked(limited);
  if (blocked) throw new KeyGuessesExhausted(blocked);
  if (key === undefined)
    throw new StoreError('UNAUTHORIZED', 'Send the license key as Authorization: Bearer <key>.');
  const keyHash = secrets.keyedHash(LICENSE_KEY_DOMAIN, normaliseLicenseKey(key));
  const license = await failureLimiter.run(limited, async () => {
    const { license, guesses } = await licensesRepository(db).byKeyHashWithGuesses(
      keyHash,
      limited,
    );
    return { found: license, failures: guesses };
  });
  if (license instanceof Blocked) throw new KeyGuessesExhausted(license);
  if (license === undefined) throw new StoreError('LICENSE_NOT_FOUND');
  return license;
}
