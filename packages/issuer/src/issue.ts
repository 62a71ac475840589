import {
  ClaimError,
  LICENSE_CLAIM_NAMES,
  type LicenseClaims,
  type LicenseClaimsInput,
  parseLicenseClaims,
  type TokenFormat,
} from '@licensekit/core';
import { prepareLicense } from '@licensekit/core/write';
import { checkCertificateUse } from './lib/certificate-scope.js';
import { numericDateNow } from './lib/clock.js';
import { tokenFormat } from './lib/format.js';
import { checkSigner, signDocument } from './lib/sign-document.js';
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
}

// The verifier ignores unknown claims (RFC 7519 §4) and the encoders drop them, so at
// issue time a misspelt claim ("grase") would vanish without a trace: refuse it instead.
const CLAIM_NAMES: ReadonlySet<string> = new Set(LICENSE_CLAIM_NAMES);

/** Fills the claims the issuer owns (caller's values win) and validates the result. */
function completeLicenseClaims(claims: LicenseClaimsInput, now: number): LicenseClaims {
  if (typeof claims !== 'object' || claims === null) {
    throw new ClaimError('claims', 'must be an object');
  }
  for (const name of Object.keys(claims)) {
    if (!CLAIM_NAMES.has(name)) throw new ClaimError(name, 'is not a license claim');
  }
  const iat = claims.iat ?? now;
  return parseLicenseClaims({
    ...claims,
    iat,
    nbf: claims.nbf ?? iat,
    jti: claims.jti ?? randomTokenId(),
    seq: claims.seq ?? 0,
    access: claims.access ?? 'full',
    ent: claims.ent ?? [],
    quota: claims.quota ?? {},
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
  await checkSigner(signer);
  const format = tokenFormat(options.format, 'cwt');
  const complete = completeLicenseClaims(claims, numericDateNow(options.now));
  if (certificate !== undefined) {
    await checkCertificateUse(certificate, {
      signerKid: signer.kid,
      iss: complete.iss,
      aud: complete.aud,
      at: complete.iat,
    });
  }
  const prepared = prepareLicense(complete, { format, kid: signer.kid, certificate });
  return signDocument(prepared, signer, 'license', options.verify);
}
