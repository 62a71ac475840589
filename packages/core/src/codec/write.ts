import type { IssuerCertificateClaims } from '../claims/certificate.js';
import { certificateClaimsToJson, certificateToCwt } from '../claims/certificate.js';
import type { LicenseClaims } from '../claims/license.js';
import { licenseClaimsToJson } from '../claims/license.js';
import { licenseToCwt } from '../claims/license-cwt.js';
import type { RevocationListClaims } from '../claims/revocation.js';
import { revocationClaimsToJson, revocationToCwt } from '../claims/revocation.js';
import { prepareCose } from './cose-encode.js';
import type { DocumentHeader, PreparedDocument } from './jws.js';
import { prepareJws } from './jws.js';
import type { TokenFormat } from './kinds.js';

/**
 * The issuing side of the codecs: validated claims in, bytes to sign out. The caller (the
 * issuer package) signs `signingInput` and calls `finish(signature)` for the token text.
 */
export interface PrepareOptions {
  format: TokenFormat;
  /** kid of the signing key (RFC 7638 thumbprint, base64url). */
  kid: string;
  /** Issuer certificate to embed (licenses only): the certificate's token text or bytes. */
  certificate?: string | Uint8Array | undefined;
  /**
   * CWT licenses without certificate (0.3): leave the kid out, 35 bytes of the token; the
   * verifier then tries each key it trusts directly. Ignored for JWTs, which always name it.
   */
  omitKid?: boolean | undefined;
}

export function prepareLicense(claims: LicenseClaims, options: PrepareOptions): PreparedDocument {
  // Built member by member: an object spread here cost more than the CBOR encoding.
  const header: DocumentHeader = { kind: 'license', kid: options.kid };
  if (options.certificate !== undefined) header.certificate = options.certificate;
  if (options.omitKid === true) header.omitKid = true;
  return options.format === 'jwt'
    ? prepareJws(header, licenseClaimsToJson(claims))
    : prepareCose(header, licenseToCwt(claims));
}

export function prepareCertificate(
  claims: IssuerCertificateClaims,
  options: PrepareOptions,
): PreparedDocument {
  const header = { kind: 'certificate' as const, kid: options.kid };
  return options.format === 'jwt'
    ? prepareJws(header, certificateClaimsToJson(claims))
    : prepareCose(header, certificateToCwt(claims));
}

export function prepareRevocationList(
  claims: RevocationListClaims,
  options: PrepareOptions,
): PreparedDocument {
  const header = { kind: 'revocations' as const, kid: options.kid };
  return options.format === 'jwt'
    ? prepareJws(header, revocationClaimsToJson(claims))
    : prepareCose(header, revocationToCwt(claims));
}
