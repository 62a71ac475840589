import type {
  DecodedDocument,
  Ed25519Backend,
  Ed25519PublicJwk,
  Ed25519PublicKey,
  IssuerCertificateClaims,
  LicenseClaims,
} from '@licensekit/core';
import {
  ALL_PRODUCTS,
  ConfigError,
  jwkThumbprint,
  KeyError,
  MalformedError,
  parsePublicJwk,
  publicKeyBytes,
  readCertificateClaims,
} from '@licensekit/core';
import type { Decode } from './decode.js';

/**
 * Trust anchors: root keys, which certify issuer keys with issuer certificates carried in
 * each token, and issuer keys trusted directly (simple setups). A root may also sign
 * licenses itself. Keys are indexed by their RFC 7638 thumbprint; a token's kid is only a
 * lookup key into this index, never a source of key material.
 */
export interface TrustOptions {
  roots?: readonly unknown[];
  issuers?: readonly unknown[];
  /**
   * The issuance log's keys, for `requireLogProof` (full entry only): C2SP signed-note
   * verifier keys `<origin>+<8 hex key ID>+<base64 key>`, as the store publishes them
   * (`log.key` of `GET /v1/keys`). A checkpoint must be signed by one whose name is its origin.
   */
  logKeys?: readonly string[];
}

interface TrustedKey {
  kid: string;
  role: 'root' | 'issuer';
  key: Ed25519PublicKey;
}

/** An issuer key vouched for by a root, with the certificate's window and scope. */
export interface CertifiedKey {
  key: Ed25519PublicKey;
  kid: string;
  rootKid: string;
  claims: IssuerCertificateClaims;
}

export type CertificateFailure =
  | 'certificate_malformed'
  | 'certificate_signer_unknown'
  | 'certificate_signature_invalid'
  | 'certificate_key_mismatch';

export class TrustStore {
  readonly #keys = new Map<string, TrustedKey>();
  /** The same keys in the order a license without kid tries them (see signerOf). */
  readonly #order: TrustedKey[] = [];
  /** Certificates already checked, by the hash of their bytes (a token carries the same one). */
  readonly #certificates: {
    certificate: string | Uint8Array;
    outcome: CertifiedKey | CertificateFailure;
  }[] = [];
  readonly #backend: Ed25519Backend;
  readonly #decode: Decode;

  private constructor(backend: Ed25519Backend, decode: Decode) {
    this.#backend = backend;
    this.#decode = decode;
  }

  /** Validates the anchors synchronously so misconfiguration fails at createVerifier. */
  static parse(options: TrustOptions): { roots: Ed25519PublicJwk[]; issuers: Ed25519PublicJwk[] } {
    const roots = (options.roots ?? []).map((jwk, i) => toJwk(jwk, `trust.roots[${i}]`));
    const issuers = (options.issuers ?? []).map((jwk, i) => toJwk(jwk, `trust.issuers[${i}]`));
    if (roots.length + issuers.length === 0) {
      throw new ConfigError('trust needs a root or issuer key');
    }
    return { roots, issuers };
  }

  static async create(
    anchors: { roots: Ed25519PublicJwk[]; issuers: Ed25519PublicJwk[] },
    backend: Ed25519Backend,
    decode: Decode,
  ): Promise<TrustStore> {
    const store = new TrustStore(backend, decode);
    for (const [role, list] of [
      ['root', anchors.roots],
      ['issuer', anchors.issuers],
    ] as const) {
      for (const jwk of list) {
        // Indexed by the RFC 7638 thumbprint; a `kid` the JWK carries is not consulted.
        const kid = await jwkThumbprint(jwk);
        // A key listed as both keeps its root role (roots may also sign licenses).
        if (store.#keys.get(kid)?.role !== 'root') {
          store.#keys.set(kid, {
            kid,
            role,
            key: await backend.importPublicKey(publicKeyBytes(jwk)),
          });
        }
      }
    }
    store.#order.push(...store.#keys.values());
    return store;
  }

  /** A key trusted to sign licenses directly (issuer or root). */
  direct(kid: string): Ed25519PublicKey | undefined {
    return this.#keys.get(kid)?.key;
  }

  /**
   * The directly trusted key whose signature this is, for a bare license that names no key
   * (core README, "Headers"): each key is tried, the last one found first, so an app whose
   * licenses come from one key pays one verify per token.
   */
  async signerOf(message: Uint8Array, signature: Uint8Array): Promise<TrustedKey | undefined> {
    const order = this.#order;
    for (let i = 0; i < order.length; i++) {
      const candidate = order[i]!;
      if (await this.#backend.verify(candidate.key, message, signature)) {
        if (i > 0) order.unshift(...order.splice(i, 1));
        return candidate;
      }
    }
    return undefined;
  }

  /**
   * Checks an embedded issuer certificate: well-formed, of the certificate type, signed by
   * a trusted root. Its validity window and product scope depend on the token and the
   * time, so the caller checks those on every verification.
   */
  async certify(certificate: string | Uint8Array): Promise<CertifiedKey | CertificateFailure> {
    const known = this.known(certificate);
    if (known !== undefined) return known;
    const outcome = await this.#checkCertificate(certificate);
    if (this.#certificates.length >= 8) this.#certificates.shift();
    // The decoders hand over an embedded certificate as a copy of its own (core's cose.ts),
    // so what is kept here cannot change with the token's buffer.
    this.#certificates.push({ certificate, outcome });
    return outcome;
  }

  /** The outcome of a certificate already checked, without waiting; undefined when new. */
  known(certificate: string | Uint8Array): CertifiedKey | CertificateFailure | undefined {
    // An app sees one or two certificates in its life: a comparison of a few hundred bytes
    // finds them faster than hashing would.
    for (const entry of this.#certificates) {
      if (sameDocument(entry.certificate, certificate)) return entry.outcome;
    }
    return undefined;
  }

  async #checkCertificate(
    certificate: string | Uint8Array,
  ): Promise<CertifiedKey | CertificateFailure> {
    let document: DecodedDocument;
    let claims: IssuerCertificateClaims;
    try {
      document = this.#decode(certificate, 'certificate');
      claims = readCertificateClaims(document);
    } catch (error) {
      if (error instanceof MalformedError) return 'certificate_malformed';
      throw error;
    }
    const root = this.#keys.get(document.kid);
    const kid = await jwkThumbprint({ x: claims.key });
    if (root?.role !== 'root') {
      // A license without kid names its key through its certificate; a key trusted
      // directly then needs no voucher (rootKid ''): its signature is all that counts.
      const named = this.#keys.get(kid);
      return named ? { kid, rootKid: '', claims, key: named.key } : 'certificate_signer_unknown';
    }
    if (!(await this.#backend.verify(root.key, document.signingInput, document.signature))) {
      return 'certificate_signature_invalid';
    }
    return {
      kid,
      rootKid: root.kid,
      claims,
      key: await this.#backend.importPublicKey(
        publicKeyBytes({ kty: 'OKP', crv: 'Ed25519', x: claims.key }),
      ),
    };
  }
}

/**
 * A certificate covers a license of its own vendor (`iss`) for a product it lists, or any
 * product of that vendor with "*": a root shared by several vendors never lets one
 * vendor's issuer sign for another.
 */
export function certificateCovers(
  claims: IssuerCertificateClaims,
  license: LicenseClaims,
): boolean {
  return (
    claims.iss === license.iss &&
    (claims.products.includes(ALL_PRODUCTS) || claims.products.includes(license.aud))
  );
}

function toJwk(value: unknown, what: string): Ed25519PublicJwk {
  try {
    return parsePublicJwk(value, what);
  } catch (error) {
    // A trust anchor that is not a public key is a configuration error; anything else
    // (a throwing getter on the object given) goes on as it was thrown.
    if (!(error instanceof KeyError)) throw error;
    throw new ConfigError(error.message);
  }
}

function sameDocument(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
