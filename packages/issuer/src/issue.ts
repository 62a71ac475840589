import {
  ClaimError,
  LICENSE_CLAIM_NAMES,
  type LicenseClaims,
  type LicenseClaimsInput,
  type TokenFormat,
  validateLicenseClaims,
} from '@licensekit/core';
import { prepareLicense } from '@licensekit/core/write';
import { checkCertificateUse, checkKnownCertificateUse } from './lib/certificate-scope.js';
import { numericDateNow } from './lib/clock.js';
import { tokenFormat } from './lib/format.js';
import { checkedSigner, checkSigner, signDocument } from './lib/sign-document.js';
import { randomTokenId } from './lib/token-id.js';
import type { Signer } from './signer.js';

/** Options of {@link issue}. */
export interface IssueOptions {
  signer: Signer;
  /** `cwt` (default: the compact binary form) or `jwt` (widest interop). */
  format?: TokenFormat | undefined;
  /**
   * The issuer certificate of `signer`'s key, embedded in the token so that apps trusting
   * only the root key accept it. Checked at issue time against the signer, `iss` and `aud`.
   */
  certificate?: string | Uint8Array | undefined;
  /** The issue time, NumericDate seconds (default: the system clock). */
  now?: number | undefined;
  /**
   * Which signatures to verify before returning the token: `first` (default) checks each
   * signer's first signature against its public key (a wrong KMS key shows at once);
   * `always` checks every one, guarding against transient signing faults at the cost of
   * about two signatures' time.
   */
  verify?: 'first' | 'always' | undefined;
  /**
   * CWT without `certificate`: write the signing key's kid (35 bytes). Default false since
   * 0.3: a verifier tries each key it trusts directly (one verify per key it tries), so an
   * app that trusts many issuer keys directly may want it. A JWT always names its key, and
   * a token with a certificate is named by it.
   */
  kid?: boolean | undefined;
}

// The verifier ignores unknown claims (RFC 7519 §4) and the encoders drop them, so at
// issue time a misspelt claim ("grase") would vanish without a trace: refuse it instead.
const CLAIM_NAMES: ReadonlySet<string> = new Set(LICENSE_CLAIM_NAMES);

/**
 * Fills the claims the issuer owns (caller's values win) and validates the result once, with
 * the verifier's rules (core's validateLicenseClaims, reading the caller's object and the
 * filled-in values directly: no merged copy). What the issuer fills in itself (a fresh jti,
 * now) passes the same cheap guards; nothing is decoded or validated a second time on the
 * way to the signature.
 */
function completeLicenseClaims(claims: LicenseClaimsInput, now: number): LicenseClaims {
  if (typeof claims !== 'object' || claims === null) {
    throw new ClaimError('claims', 'must be an object');
  }
  for (const name of Object.keys(claims)) {
    if (!CLAIM_NAMES.has(name)) throw new ClaimError(name, 'is not a license claim');
  }
  const iat = claims.iat ?? now;
  const nbf = claims.nbf ?? iat;
  const jti = claims.jti ?? randomTokenId();
  const seq = claims.seq ?? 0;
  const access = claims.access ?? 'full';
  return validateLicenseClaims((name) => {
    switch (name) {
      case 'iat':
        return iat;
      case 'nbf':
        return nbf;
      case 'jti':
        return jti;
      case 'seq':
        return seq;
      case 'access':
        return access;
      default:
        // Own members only, as a JWT payload's: nothing inherited is ever signed.
        return Object.hasOwn(claims, name) ? claims[name] : undefined;
    }
  });
}

/**
 * Signs a license. Claims the caller leaves out get defaults (`iat` = `nbf` = now, a random
 * 16-byte `jti`, `seq` 0, `access` "full", `ent` [], `quota` {}); everything is then
 * validated by the same strict parser the verifier uses, and a claim name the model does
 * not know is refused rather than silently dropped.
 *
 * @example
 * ```ts
 * const signer = await createSigner(await readPrivateKeyFile('issuer.json'));
 * const token = await issue(
 *   { iss: 'acme', sub: 'lic_01JD3K8X', aud: 'photo-editor', plan: 'pro-monthly',
 *     exp: Math.floor(Date.now() / 1000) + 30 * 86400, quota: { seats: { limit: 3 } } },
 *   { signer, certificate },
 * );
 * ```
 * @throws ClaimError naming the claim at fault; ConfigError when the certificate does not
 *   certify the signer, names another vendor, does not cover `aud` or is not valid at `iat`;
 *   KeyError when the signer's key and kid disagree
 */
export async function issue(claims: LicenseClaimsInput, options: IssueOptions): Promise<string> {
  const { signer, certificate } = options;
  // Waits only the first time a signer or a certificate is seen; then the signature is the
  // one wait of the call.
  if (checkedSigner(signer) === undefined) await checkSigner(signer);
  const format = tokenFormat(options.format, 'cwt');
  const complete = completeLicenseClaims(claims, numericDateNow(options.now));
  if (certificate !== undefined) {
    const use = { signerKid: signer.kid, iss: complete.iss, aud: complete.aud, at: complete.iat };
    if (checkKnownCertificateUse(certificate, use) === undefined) {
      await checkCertificateUse(certificate, use);
    }
  }
  const prepared = prepareLicense(complete, {
    format,
    kid: signer.kid,
    certificate,
    omitKid: options.kid !== true,
  });
  return signDocument(prepared, signer, 'license', options.verify);
}
