import type {
  DecodedDocument,
  Ed25519Backend,
  Ed25519PublicKey,
  LicenseClaims,
  TokenFormat,
} from '@licensekit/core';
import { MalformedError, readLicenseClaims, tokenHash } from '@licensekit/core';
import type { Decode } from './decode.js';
import type { CertificateFailure, CertifiedKey, TrustStore } from './trust.js';
import { certificateCovers } from './trust.js';
import { Verdict } from './verdict.js';

/** A token whose signature checked out against a trusted key. */
export interface Accepted {
  format: TokenFormat;
  kid: string;
  claims: LicenseClaims;
  /** The token's own bytes (what its hash, its identity in lineage and state, is over). */
  bytes: Uint8Array;
  /** base64url SHA-256 of `bytes`, once computed (see hashOf). */
  hash?: string;
  certified?: CertifiedKey;
}

/**
 * The token's hash, computed on first need and kept with the cached token: stateless
 * checks never pay for it, repeated checks pay once.
 */
export async function hashOf(accepted: Accepted): Promise<string> {
  accepted.hash ??= await tokenHash(accepted.bytes);
  return accepted.hash;
}

/** The key a license is checked with, and how it was found. */
interface Resolved {
  key: Ed25519PublicKey;
  kid?: string;
  certified?: CertifiedKey;
  /** The signature was checked while finding the key (a license without kid). */
  verified?: boolean;
}

/**
 * The byte-level half of verification: strict decoding, key resolution (directly trusted
 * or certified by a trusted root) and the signature. A bounded cache keyed by the exact
 * token text lets an app re-check the same token cheaply; everything that depends on the
 * time or the state is recomputed by the caller on every call, and so are the
 * certificate's window and scope.
 */
export class Acceptor {
  // ECMAScript private members: truly private, and minifiers shorten their names.
  readonly #cache = new Map<string, Accepted>();
  readonly #decode: Decode;
  readonly #trust: TrustStore;
  readonly #backend: Ed25519Backend;
  readonly #leeway: number;
  readonly #cacheSize: number;

  constructor(
    decode: Decode,
    trust: TrustStore,
    backend: Ed25519Backend,
    leeway: number,
    cacheSize: number,
  ) {
    this.#decode = decode;
    this.#trust = trust;
    this.#backend = backend;
    this.#leeway = leeway;
    this.#cacheSize = cacheSize;
  }

  async accept(token: string | Uint8Array, now: number): Promise<Accepted | Verdict> {
    const cached = typeof token === 'string' ? this.#cache.get(token) : undefined;
    if (cached)
      return (
        (cached.certified && this.#certificateProblem(cached.certified, cached.claims, now)) ||
        cached
      );

    let document: DecodedDocument;
    let claims: LicenseClaims;
    try {
      document = this.#decode(token, 'license');
      claims = readLicenseClaims(document);
    } catch (error) {
      if (error instanceof MalformedError)
        return new Verdict('malformed', error.reason, error.message);
      throw error;
    }
    let resolved = this.#resolveKey(document, claims, now);
    // Waits only for a certificate seen the first time or a license without kid.
    if (resolved instanceof Promise) resolved = await resolved;
    if (resolved instanceof Verdict) return resolved;
    if (
      !resolved.verified &&
      !(await this.#backend.verify(resolved.key, document.signingInput, document.signature))
    ) {
      return new Verdict('invalid_signature', 'signature_mismatch');
    }
    const accepted: Accepted = {
      format: document.format,
      // A license without kid is named by its certificate's key.
      kid: resolved.certified?.kid ?? resolved.kid ?? document.kid,
      // Frozen: results hand these claims to the app, and the cache reuses them.
      claims: freezeClaims(claims),
      bytes: document.bytes,
    };
    if (resolved.certified) accepted.certified = resolved.certified;
    if (this.#cacheSize > 0 && typeof token === 'string') {
      // Insertion order makes this FIFO: the oldest entry leaves first.
      if (this.#cache.size >= this.#cacheSize)
        this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(token, accepted);
    }
    return accepted;
  }

  /** Synchronous when the key is trusted directly or the certificate was checked before. */
  #resolveKey(
    document: DecodedDocument,
    claims: LicenseClaims,
    now: number,
  ): Resolved | Verdict | Promise<Resolved | Verdict> {
    const direct = this.#trust.direct(document.kid);
    if (direct) return { key: direct };
    const certificate = document.certificate;
    if (certificate === undefined) {
      if (document.kid !== '') return new Verdict('untrusted_key', 'unknown_kid');
      // A bare CWT license without kid (0.3): the signature itself finds its key. When no
      // trusted key verifies it, an unknown signer and a forgery look the same; the likelier
      // one, a key this app does not trust, is reported, as an unknown kid would be.
      return this.#trust
        .signerOf(document.signingInput, document.signature)
        .then((signer) =>
          signer
            ? { key: signer.key, kid: signer.kid, verified: true }
            : new Verdict('untrusted_key', 'unknown_kid'),
        );
    }
    const known = this.#trust.known(certificate);
    return known !== undefined
      ? this.#certified(known, document, claims, now)
      : this.#trust
          .certify(certificate)
          .then((outcome) => this.#certified(outcome, document, claims, now));
  }

  #certified(
    outcome: CertifiedKey | CertificateFailure,
    document: DecodedDocument,
    claims: LicenseClaims,
    now: number,
  ): Resolved | Verdict {
    if (typeof outcome === 'string') return new Verdict('untrusted_key', outcome);
    // A CWT license that embeds its certificate carries no kid (core README, "Headers"):
    // the certified key is its key.
    if (document.kid !== '' && outcome.kid !== document.kid) {
      return new Verdict('untrusted_key', 'certificate_key_mismatch');
    }
    // Trusted directly, named by a certificate no root here vouches for.
    if (outcome.rootKid === '') return { key: outcome.key, kid: outcome.kid };
    return (
      this.#certificateProblem(outcome, claims, now) ?? { key: outcome.key, certified: outcome }
    );
  }

  /**
   * A certificate vouches for its key only inside its window, for its vendor and its
   * products. It is
   * checked at verification time (not at the token's iat), so a stolen issuer key stops
   * working when its certificate ends even with back-dated tokens.
   */
  #certificateProblem(
    certified: CertifiedKey,
    claims: LicenseClaims,
    now: number,
  ): Verdict | undefined {
    const certificate = certified.claims;
    if (now < certificate.nbf - this.#leeway)
      return new Verdict('untrusted_key', 'certificate_not_yet_valid');
    if (now >= certificate.exp) return new Verdict('untrusted_key', 'certificate_expired');
    if (!certificateCovers(certificate, claims))
      return new Verdict('untrusted_key', 'certificate_out_of_scope');
    return undefined;
  }
}

/**
 * Freezes validated claims member by member: their shape is known (core's parser builds
 * fresh objects), so no generic walk over Object.values is needed.
 */
function freezeClaims(claims: LicenseClaims): LicenseClaims {
  Object.freeze(claims.ent);
  for (const spec of Object.values(claims.quota)) Object.freeze(spec);
  Object.freeze(claims.quota);
  if (claims.cnf) Object.freeze(claims.cnf);
  if (claims.chg) Object.freeze(claims.chg);
  return Object.freeze(claims);
}
