import {
  ALL_PRODUCTS,
  base64urlEncode,
  ConfigError,
  decodeDocument,
  type IssuerCertificateClaims,
  jwkThumbprint,
  LicenseKitError,
  readCertificateClaims,
} from '@licensekit/core';

/** What a license to be signed needs from the certificate it will carry. */
export interface CertificateUse {
  signerKid: string;
  /** The license's `iss` (vendor) and `aud` (product). */
  iss: string;
  aud: string;
  /** The license's `iat`: the certificate must be valid when the license is issued. */
  at: number;
}

interface ReadCertificate {
  claims: IssuerCertificateClaims;
  certifiedKid: string;
}

// A store issues thousands of tokens with one certificate: decode it once. Keyed by the
// certificate's text (bytes as base64url); bounded, oldest out first.
const decoded = new Map<string, ReadCertificate>();
const DECODED_LIMIT = 16;

// The certificate texts most recently used: a store passes the same string every time, and
// comparing it with === (the same string: one pointer comparison) beats hashing it.
const recent: { certificate: string; entry: ReadCertificate }[] = [];

/** A certificate already read, found without waiting (the issue path's fast case). */
function knownCertificate(certificate: string | Uint8Array): ReadCertificate | undefined {
  for (const seen of recent) if (seen.certificate === certificate) return seen.entry;
  return undefined;
}

async function readCertificate(certificate: string | Uint8Array): Promise<ReadCertificate> {
  const same = knownCertificate(certificate);
  if (same) return same;
  const key = typeof certificate === 'string' ? certificate : base64urlEncode(certificate);
  const known = decoded.get(key);
  if (known) return remember(certificate, known);
  let claims: IssuerCertificateClaims;
  try {
    claims = readCertificateClaims(decodeDocument(certificate, 'certificate'));
  } catch (error) {
    if (!(error instanceof LicenseKitError)) throw error;
    throw new ConfigError(`certificate is not a valid issuer certificate: ${error.message}`);
  }
  const entry = { claims, certifiedKid: await jwkThumbprint({ x: claims.key }) };
  if (decoded.size >= DECODED_LIMIT) decoded.delete(decoded.keys().next().value as string);
  decoded.set(key, entry);
  return remember(certificate, entry);
}

function remember(certificate: string | Uint8Array, entry: ReadCertificate): ReadCertificate {
  // Only text: a caller may rewrite the same byte array with another certificate.
  if (typeof certificate === 'string') {
    if (recent.length >= 4) recent.shift();
    recent.push({ certificate, entry });
  }
  return entry;
}

/**
 * Checks, at issue time, what the customer's app would otherwise find out at verification
 * (DESIGN.md "untrusted_key"): the certificate certifies the signing key, names the same
 * vendor, covers the product, and is valid now. Its root signature is not checked here:
 * the issuer holds no root public key, and the verifier checks it anyway.
 * @throws ConfigError
 */
export async function checkCertificateUse(
  certificate: string | Uint8Array,
  use: CertificateUse,
): Promise<IssuerCertificateClaims> {
  return checkUse(knownCertificate(certificate) ?? (await readCertificate(certificate)), use);
}

/**
 * {@link checkCertificateUse} without waiting when the certificate has been read before;
 * undefined when it has not (then the caller awaits checkCertificateUse).
 * @throws ConfigError
 */
export function checkKnownCertificateUse(
  certificate: string | Uint8Array,
  use: CertificateUse,
): IssuerCertificateClaims | undefined {
  const known = knownCertificate(certificate);
  return known === undefined ? undefined : checkUse(known, use);
}

function checkUse(
  { claims, certifiedKid }: ReadCertificate,
  use: CertificateUse,
): IssuerCertificateClaims {
  if (certifiedKid !== use.signerKid) {
    throw new ConfigError(
      `certificate certifies key ${certifiedKid}, not the signer's key ${use.signerKid}; ` +
        'pass the certificate issued for this signer',
    );
  }
  if (claims.iss !== use.iss) {
    throw new ConfigError(
      `certificate is for vendor "${claims.iss}", the license names "${use.iss}"`,
    );
  }
  if (
    !(claims.products.length === 1 && claims.products[0] === ALL_PRODUCTS) &&
    !claims.products.includes(use.aud)
  ) {
    throw new ConfigError(
      `certificate does not cover product "${use.aud}" (it covers ${claims.products
        .map((product) => `"${product}"`)
        .join(', ')}); certify the key for this product`,
    );
  }
  if (use.at < claims.nbf || use.at >= claims.exp) {
    throw new ConfigError(
      `certificate is valid from ${claims.nbf} until ${claims.exp}, not at ${use.at}; ` +
        'issue a new certificate for this key',
    );
  }
  return claims;
}
