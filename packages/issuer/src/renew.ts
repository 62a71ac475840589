import {
  ConfigError,
  decodeDocument,
  type LicenseClaims,
  type LicenseClaimsInput,
  readLicenseClaims,
  type TokenFormat,
  tokenHash,
} from '@licensekit/core';
import { issue } from './issue.js';
import { type CertificateUse, checkCertificateUse } from './lib/certificate-scope.js';
import { numericDateNow } from './lib/clock.js';
import { tokenFormat } from './lib/format.js';
import { checkSigner } from './lib/sign-document.js';
import type { Signer } from './signer.js';

/** Optional claims a renewal may remove by giving `null` for them in the changes. */
export type RemovableClaim = 'exp' | 'anchor' | 'rfa' | 'grace' | 'cnf' | 'chg';

const REMOVABLE_CLAIMS: ReadonlySet<string> = new Set<RemovableClaim>([
  'exp',
  'anchor',
  'rfa',
  'grace',
  'cnf',
  'chg',
]);

/**
 * Changes applied by {@link renew} on top of the previous token's claims. A claim left out
 * or `undefined` keeps its previous value; `null` removes an optional claim (`chg` once a
 * pending change has taken effect, `exp` for a perpetual license, `cnf` to unbind a device).
 * `seq` and `prev` are absent: they are the lineage, and only `renew` sets them.
 */
export type LicenseChanges = {
  [K in Exclude<keyof LicenseClaimsInput, 'seq' | 'prev'>]?:
    | LicenseClaimsInput[K]
    | (K extends RemovableClaim ? null : never)
    | undefined;
};

/** Options of {@link renew}. */
export interface RenewOptions {
  /** The current issuer key; it need not be the key that signed the previous token. */
  signer: Signer;
  /** Default: the previous token's format. */
  format?: TokenFormat | undefined;
  /**
   * The certificate to embed. Default: the previous token's certificate, which must then
   * certify `signer` (after a key rotation, pass the new key's certificate). `null`: none.
   */
  certificate?: string | Uint8Array | null | undefined;
  /** The renewal time, NumericDate seconds (default: the system clock). */
  now?: number | undefined;
  /** Which signatures to verify before returning the token (see IssueOptions.verify). */
  verify?: 'first' | 'always' | undefined;
  /** Name the key in a CWT without certificate (see IssueOptions.kid). */
  kid?: boolean | undefined;
}

/** The previous claims with `changes` applied, before the issuer-owned claims are set. */
function applyChanges(previous: LicenseClaims, changes: LicenseChanges): Record<string, unknown> {
  const { iat: _iat, nbf: _nbf, jti: _jti, seq: _seq, prev: _prev, ...carried } = previous;
  const next: Record<string, unknown> = { ...carried };
  for (const [claim, value] of Object.entries(changes)) {
    if (claim === 'seq' || claim === 'prev') {
      throw new ConfigError(`changes.${claim} is not allowed: renew sets the lineage (seq, prev)`);
    }
    if (claim === 'sub' && value !== undefined && value !== previous.sub) {
      throw new ConfigError(
        `changes.sub cannot change the license id ("${previous.sub}"): sub is stable across renewals; issue a new license instead`,
      );
    }
    if (value === undefined) continue;
    if (value === null) {
      if (!REMOVABLE_CLAIMS.has(claim)) {
        throw new ConfigError(
          `changes.${claim} is null, but only ${[...REMOVABLE_CLAIMS].join(', ')} can be removed`,
        );
      }
      delete next[claim];
    } else {
      next[claim] = value;
    }
  }
  return next;
}

/**
 * Signs the next token of a license's lineage (DESIGN.md "seq, prev"): `seq` is the
 * previous `seq` + 1, `prev` the base64url SHA-256 of the previous token's own bytes (the
 * ASCII of a JWT, the raw COSE bytes of a CWT), a fresh `jti`, `iat` = `nbf` = now unless
 * the changes set them. Every other claim is carried over, then overridden by `changes`
 * (`undefined` keeps, `null` removes an optional claim). `sub` never changes.
 *
 * The anchor is kept: quotas count from it (per period, or over the license's whole life),
 * so when the previous token had no `anchor`, the license has quotas (other than `seats`)
 * and the new `nbf` differs, the new token names the old `nbf` as its `anchor`, and usage
 * neither restarts nor shifts with each renewal (`anchor: null` lets it restart). The refresh
 * interval is kept too: without an `rfa` in the changes, the new `rfa` is as far after the
 * new `iat` as the old one was after the old `iat` (an absolute `rfa` carried over would
 * make the renewed token due at once). `chg` is carried as it is.
 *
 * The previous token is decoded strictly but its signature is not checked, since the key
 * that signed it may since have been retired: renew only tokens from your own issuance
 * records, never a token a client sends in.
 *
 * @example
 * ```ts
 * const next = await renew(previous, { exp: periodEnd, chg: null }, { signer, certificate });
 * ```
 * @throws MalformedError when the previous token is not a well-formed license;
 *   ConfigError when the changes touch `sub`, `seq` or `prev`; ClaimError as {@link issue}
 */
export async function renew(
  previousToken: string | Uint8Array,
  changes: LicenseChanges,
  options: RenewOptions,
): Promise<string> {
  const { signer } = options;
  await checkSigner(signer);
  if (typeof changes !== 'object' || changes === null) {
    throw new ConfigError('changes must be an object (use {} to renew without changes)');
  }
  const previousDocument = decodeDocument(previousToken, 'license');
  const previous = readLicenseClaims(previousDocument);
  const now = numericDateNow(options.now);
  const next = applyChanges(previous, changes);
  const iat = changes.iat ?? now;
  const nbf = changes.nbf ?? iat;
  // The default anchor is nbf (DESIGN.md "anchor"): keeping it means naming the old nbf.
  if (
    changes.anchor === undefined &&
    previous.anchor === undefined &&
    nbf !== previous.nbf &&
    hasCountedQuota(next.quota)
  ) {
    next.anchor = previous.nbf;
  }
  if (changes.rfa === undefined && previous.rfa !== undefined) {
    next.rfa = iat + Math.max(0, previous.rfa - previous.iat);
  }
  const format = tokenFormat(options.format, previousDocument.format);
  const certificate =
    options.certificate === null
      ? undefined
      : (options.certificate ?? previousDocument.certificate);
  if (options.certificate === undefined && certificate !== undefined) {
    await checkCarriedCertificate(certificate, {
      signerKid: signer.kid,
      iss: typeof next.iss === 'string' ? next.iss : previous.iss,
      aud: typeof next.aud === 'string' ? next.aud : previous.aud,
      at: iat,
    });
  }
  return issue(
    {
      ...(next as Omit<LicenseClaimsInput, 'iat' | 'nbf' | 'seq' | 'prev'>),
      iat,
      nbf,
      seq: previous.seq + 1,
      prev: await tokenHash(previousDocument.bytes),
    },
    { signer, format, certificate, now, verify: options.verify, kid: options.kid },
  );
}

/**
 * True when some quota is counted from the anchor (any but `seats` and unlimited ones: per
 * period, or over the license's life), i.e. when the anchor must not move with renewals.
 */
function hasCountedQuota(quota: unknown): boolean {
  return (
    typeof quota === 'object' &&
    quota !== null &&
    Object.entries(quota).some(
      ([name, spec]) =>
        name !== 'seats' && !(typeof spec === 'object' && spec !== null && 'unlimited' in spec),
    )
  );
}

/** A certificate carried from the previous token gets a hint about key rotation. */
async function checkCarriedCertificate(
  certificate: string | Uint8Array,
  use: CertificateUse,
): Promise<void> {
  try {
    await checkCertificateUse(certificate, use);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      `${error.message} (the certificate was carried over from the previous token: ` +
        'pass options.certificate for the current key, or null to embed none)',
    );
  }
}
