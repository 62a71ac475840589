import { ClaimError, ConfigError, parseRevocationClaims, type TokenFormat } from '@licensekit/core';
import { prepareRevocationList } from '@licensekit/core/write';
import { numericDateNow } from './lib/clock.js';
import { tokenFormat } from './lib/format.js';
import { checkSigner, signDocument } from './lib/sign-document.js';
import type { Signer } from './signer.js';

/** Options of {@link createRevocationList}. */
export interface RevocationListOptions {
  /** The root key (or an issuer key, for lists the app accepts from issuers). */
  signer: Signer;
  /** The vendor id (`iss`). */
  vendor: string;
  /**
   * The list's sequence number. Verifiers keep the list with the highest `seq` and never go
   * back to a lower one, so each new list needs a higher `seq` than every list before it.
   */
  seq: number;
  /** When a fresher list is promised, NumericDate seconds; after it the list is stale. */
  next?: number | undefined;
  /** Revoked signing keys, by kid (RFC 7638 thumbprint). */
  keys?: string[] | undefined;
  /** Revoked licenses, by `sub`: every token of their lineage. */
  licenses?: string[] | undefined;
  /** Revoked single tokens, by `jti`. */
  tokens?: string[] | undefined;
  /** `cwt` (default) or `jwt`. */
  format?: TokenFormat | undefined;
  /** The issue time, NumericDate seconds (default: the system clock). */
  now?: number | undefined;
}

/**
 * Signs a revocation list. A list is complete, not a delta: it replaces the previous one
 * in every app, so it lists every revocation still in force.
 *
 * @example
 * ```ts
 * const list = await createRevocationList({
 *   signer: root, vendor: 'acme', seq: 7, next: now + 7 * 86400,
 *   licenses: ['lic_01JD3K8X'], keys: [leakedIssuerKid],
 * });
 * ```
 * @throws ClaimError naming the field at fault; ConfigError when the list revokes its own
 *   signing key
 */
export async function createRevocationList(options: RevocationListOptions): Promise<string> {
  const { signer } = options;
  await checkSigner(signer);
  const format = tokenFormat(options.format, 'cwt');
  const claims = parseRevocationClaims({
    iss: options.vendor,
    iat: numericDateNow(options.now),
    seq: options.seq,
    next: options.next,
    keys: options.keys,
    licenses: options.licenses,
    tokens: options.tokens,
  });
  if (claims.next !== undefined && claims.next <= claims.iat) {
    throw new ClaimError('next', 'must be after iat: the list would be stale when issued');
  }
  if (claims.keys.includes(signer.kid)) {
    // Verifiers would have to trust the list to learn that its own key is revoked.
    throw new ConfigError(
      `the list revokes its own signing key ${signer.kid}; sign it with another key`,
    );
  }
  const prepared = prepareRevocationList(claims, { format, kid: signer.kid });
  return signDocument(prepared, signer, 'revocations');
}
