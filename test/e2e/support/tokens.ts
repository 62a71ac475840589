import type { Ed25519PublicJwk } from '../../../packages/core/src/keys.js';
import {
  certificateClaims,
  DAY,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  signCertificate,
  signLicense,
} from '../../support/tokens.js';

/** What a page (or a Deno/Bun script) needs: the trust anchor and one license per format. */
export interface RuntimeFixture {
  product: string;
  /** The root public JWK the app embeds; the tokens carry issuer certificates it signed. */
  root: Ed25519PublicJwk;
  cwt: string;
  jwt: string;
  /** Quota the tests consume, and its limit. */
  quota: { name: string; limit: number };
}

/**
 * A fresh root and issuer key, and a CWT and a JWT valid at the real current time (the
 * runtimes under test read their own clock). The two licenses have different ids: one
 * verifier state holds both lineages, and a second token with the same `seq` would be a
 * rollback.
 */
export function makeRuntimeFixture(now = Math.floor(Date.now() / 1000)): RuntimeFixture {
  const root = generateTestKey();
  const issuer = generateTestKey();
  const certified = certificateClaims(issuer, {
    iat: now - DAY,
    nbf: now - DAY,
    exp: now + 365 * DAY,
  });
  const quota = { name: 'exports', limit: 1000 };
  const license = (sub: string) =>
    licenseClaims({
      sub,
      iat: now - 60,
      nbf: now - 60,
      exp: now + 30 * DAY,
      rfa: now + 20 * DAY,
      quota: { [quota.name]: { limit: quota.limit, per: 'month' }, seats: { limit: 3 } },
    });
  return {
    product: PRODUCT,
    root: root.jwk,
    cwt: signLicense(issuer, license('lic_browser_cwt'), {
      format: 'cwt',
      certificate: signCertificate(root, certified, { format: 'cwt' }),
    }),
    jwt: signLicense(issuer, license('lic_browser_jwt'), {
      format: 'jwt',
      certificate: signCertificate(root, certified, { format: 'jwt' }),
    }),
    quota,
  };
}
