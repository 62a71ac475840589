import {
  ALL_PRODUCTS,
  ConfigError,
  type Ed25519PublicJwk,
  parseCertificateClaims,
  parsePublicJwk,
  type TokenFormat,
} from '@licensekit/core';
import { prepareCertificate } from '@licensekit/core/write';
import { numericDateNow } from './lib/clock.js';
import { tokenFormat } from './lib/format.js';
import { checkSigner, signDocument } from './lib/sign-document.js';
import { randomTokenId } from './lib/token-id.js';
import type { Signer } from './signer.js';

/**
 * Validity of a certificate when neither `notAfter` nor `days` is given. A year: long
 * enough that rotating the online key is a planned yearly task, short enough that a
 * leaked issuer key stops being trusted on its own without a revocation list reaching
 * every app.
 */
export const DEFAULT_CERTIFICATE_DAYS = 365;

const SECONDS_PER_DAY = 86_400;

/** Options of {@link createIssuerCertificate}. */
export interface IssuerCertificateOptions {
  /** The offline root key, whose public key the app embeds. */
  root: Signer;
  /** The online issuer key to certify (a public JWK; a private one is refused). */
  issuerKey: Ed25519PublicJwk;
  /** Product ids the issuer key may sign licenses for, or `['*']` for all of the vendor's. */
  products: string[];
  /** The vendor id: the certificate's `iss`, which licenses signed under it must share. */
  vendor: string;
  /** Start of validity, NumericDate seconds (default: now). */
  notBefore?: number | undefined;
  /** End of validity, exclusive (default: `notBefore` + `days`). Not together with `days`. */
  notAfter?: number | undefined;
  /** Validity in days from `notBefore` (default {@link DEFAULT_CERTIFICATE_DAYS}). */
  days?: number | undefined;
  /** `cwt` (default) or `jwt`. */
  format?: TokenFormat | undefined;
  /** The issue time, NumericDate seconds (default: the system clock). */
  now?: number | undefined;
}

/**
 * Signs an issuer certificate (DESIGN.md "Keys and trust"): the root key vouches for an
 * issuer key, for a validity window and a product scope. The certified key travels in the
 * RFC 7800 / RFC 8747 `cnf` claim; the certificate's kid is the root's thumbprint.
 *
 * @example
 * ```ts
 * const root = await createSigner(await readPrivateKeyFile('root.json'));
 * const issuerKey = await readPublicKeyFile('issuer.pub.json');
 * const certificate = await createIssuerCertificate({
 *   root, issuerKey, vendor: 'acme', products: ['photo-editor'], days: 365,
 * });
 * ```
 * @throws ClaimError naming the claim at fault; ConfigError for contradictory options, a
 *   scope mixing "*" with product ids, or a root certifying itself; KeyError for a bad key
 */
export async function createIssuerCertificate(options: IssuerCertificateOptions): Promise<string> {
  const { root } = options;
  await checkSigner(root);
  const format = tokenFormat(options.format, 'cwt');
  const issuerKey = parsePublicJwk(options.issuerKey, 'issuer key');
  if (issuerKey.x === root.publicJwk.x) {
    // The root must stay offline; a certificate for itself would put it to daily use.
    throw new ConfigError('the issuer key is the root key itself; certify a separate online key');
  }
  if (
    Array.isArray(options.products) &&
    options.products.length > 1 &&
    options.products.includes(ALL_PRODUCTS)
  ) {
    throw new ConfigError(
      `products: "${ALL_PRODUCTS}" means every product and must be the only entry`,
    );
  }
  if (options.notAfter !== undefined && options.days !== undefined) {
    throw new ConfigError('give either notAfter or days, not both');
  }
  const now = numericDateNow(options.now);
  const notBefore = options.notBefore ?? now;
  const claims = parseCertificateClaims({
    iss: options.vendor,
    iat: now,
    nbf: notBefore,
    exp: options.notAfter ?? notBefore + validityDays(options.days) * SECONDS_PER_DAY,
    jti: randomTokenId(),
    cnf: { jwk: { kty: issuerKey.kty, crv: issuerKey.crv, x: issuerKey.x } },
    products: options.products,
  });
  const prepared = prepareCertificate(claims, { format, kid: root.kid });
  return signDocument(prepared, root, 'certificate');
}

function validityDays(days: number | undefined): number {
  if (days === undefined) return DEFAULT_CERTIFICATE_DAYS;
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new ConfigError('days must be a positive whole number');
  }
  return days;
}
