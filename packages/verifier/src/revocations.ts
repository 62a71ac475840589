import type { DecodedDocument, Ed25519Backend, RevocationListClaims } from '@licensekit/core';
import type { Decode } from './decode.js';
import type { LazyKit } from './lazy-kit.js';
import type { TrustStore } from './trust.js';

// Loaded with the revocation registry (import()): no runtime imports, see lazy-kit.ts.

/**
 * A revocation list after its signature checked out against a trust anchor (a root, or an
 * issuer key trusted directly), as sets for constant-time lookups.
 */
export class RevocationView {
  readonly keys: ReadonlySet<string>;
  readonly licenses: ReadonlySet<string>;
  readonly tokens: ReadonlySet<string>;

  constructor(
    readonly token: string,
    readonly claims: RevocationListClaims,
  ) {
    this.keys = new Set(claims.keys);
    this.licenses = new Set(claims.licenses);
    this.tokens = new Set(claims.tokens);
  }

  /** The reason a token is revoked, if it is: its signing key, its license or itself. */
  match(
    kid: string,
    sub: string,
    jti: string,
  ): 'key_revoked' | 'license_revoked' | 'token_revoked' | undefined {
    if (this.keys.has(kid)) return 'key_revoked';
    if (this.licenses.has(sub)) return 'license_revoked';
    if (this.tokens.has(jti)) return 'token_revoked';
    return undefined;
  }

  /** Past `next`, a fresher list was promised: a warning for the app, not a failure. */
  isStale(now: number): boolean {
    return this.claims.next !== undefined && now >= this.claims.next;
  }
}

export type RevocationProblem = 'malformed' | 'untrusted_key' | 'invalid_signature';

/** Verifies a revocation list token against the trust anchors. */
export async function checkRevocationList(
  token: string,
  decode: Decode,
  trust: TrustStore,
  backend: Ed25519Backend,
  kit: LazyKit,
): Promise<RevocationView | RevocationProblem> {
  let document: DecodedDocument;
  let claims: RevocationListClaims;
  try {
    document = decode(token, 'revocations');
    claims = kit.readRevocationClaims(document);
  } catch (error) {
    if (error instanceof kit.MalformedError) return 'malformed';
    throw error;
  }
  const key = trust.direct(document.kid);
  if (key === undefined) return 'untrusted_key';
  if (!(await backend.verify(key, document.signingInput, document.signature)))
    return 'invalid_signature';
  return new RevocationView(token, claims);
}
