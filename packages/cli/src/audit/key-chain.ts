/**
 * The key chain, checked in log order: issuer certificates signed by a trusted root; each
 * token's key certified (by the certificate it embeds, one logged earlier, or trusted
 * directly), its iat inside the certificate's window, its product and vendor inside the
 * certificate's scope; revocation lists signed by a root, their seq rising; and no
 * document signed by a key that a list already in the log revokes.
 *
 * State is a handful of certificates and the revocation list in force: it does not grow
 * with the number of tokens.
 */
import {
  ALL_PRODUCTS,
  defaultBackend,
  type Ed25519Backend,
  type LicenseClaims,
  publicKeyBytes,
} from '@licensekit/core';
import { isoTime } from '../lib/time.js';
import type { CertificateFacts, EntryFacts, KnownKey, RevocationFacts } from './examine.js';
import type { Findings } from './findings.js';

interface ListInForce {
  readonly seq: number;
  readonly index: number;
  readonly iat: number;
  readonly keys: ReadonlySet<string>;
  readonly licenses: ReadonlySet<string>;
}

export class KeyChain {
  readonly #findings: Findings;
  readonly #backend: Ed25519Backend;
  /** Issuer certificates from the log that a trusted root signed, by certified kid. */
  readonly #certified = new Map<string, CertificateFacts>();
  readonly #loggedCertificates = new Set<string>();
  /** Embedded certificates seen, by hash, with the first index that embeds each. */
  readonly #embedded = new Map<string, number>();
  readonly #reportedUntrusted = new Set<string>();
  #list: ListInForce | undefined;

  private constructor(findings: Findings, backend: Ed25519Backend) {
    this.#findings = findings;
    this.#backend = backend;
  }

  static async create(findings: Findings): Promise<KeyChain> {
    return new KeyChain(findings, await defaultBackend());
  }

  /** Certified issuer keys learned so far: the workers verify tokens that do not embed one. */
  issuers(): KnownKey[] {
    return [...this.#certified.values()].map(({ kid, x }) => ({ kid, x }));
  }

  certificatesLogged(): number {
    return this.#loggedCertificates.size;
  }

  #untrusted(certificate: CertificateFacts, index: number, what: string): void {
    if (this.#reportedUntrusted.has(certificate.hash)) return;
    this.#reportedUntrusted.add(certificate.hash);
    const why =
      certificate.signature === 'unknown_key'
        ? `signed by ${certificate.signerKid}, which is not a --trust root`
        : 'its signature does not verify';
    this.#findings.add(
      'key.untrusted_certificate',
      `${what} for issuer key ${certificate.kid} (${certificate.iss}): ${why}`,
      { index },
    );
  }

  /** A logged issuer certificate. */
  certificate(entry: EntryFacts, certificate: CertificateFacts): void {
    this.#loggedCertificates.add(certificate.hash);
    if (!certificate.trusted) {
      this.#untrusted(certificate, entry.index!, `the certificate at index ${entry.index}`);
      return;
    }
    this.#revokedUse(entry, certificate.signerKid, `certificate of ${certificate.kid}`);
    const known = this.#certified.get(certificate.kid);
    // Several certificates may certify one key (renewals): keep the widest window.
    if (known === undefined || certificate.exp > known.exp) {
      this.#certified.set(certificate.kid, certificate);
    }
  }

  /** A logged revocation list: in force from its place in the log on. */
  revocations(entry: EntryFacts, list: RevocationFacts): void {
    const index = entry.index!;
    if (!list.trusted) {
      this.#findings.add(
        'revocations.untrusted',
        `the revocation list at index ${index} (seq ${list.claims.seq}) is not signed by a --trust root; it is not applied`,
        { index },
      );
      return;
    }
    if (this.#list !== undefined && list.claims.seq <= this.#list.seq) {
      this.#findings.add(
        'revocations.seq_regressed',
        `the revocation list at index ${index} has seq ${list.claims.seq}, not above seq ${this.#list.seq} at index ${this.#list.index}`,
        { index },
      );
      return;
    }
    this.#list = {
      seq: list.claims.seq,
      index,
      iat: list.claims.iat,
      keys: new Set(list.claims.keys),
      licenses: new Set(list.claims.licenses),
    };
  }

  /** The revocation list in force at this point of the log: is the license revoked? */
  licenseRevoked(license: string): ListInForce | undefined {
    return this.#list?.licenses.has(license) ? this.#list : undefined;
  }

  #revokedUse(entry: EntryFacts, kid: string | undefined, what: string, license?: string): void {
    const list = this.#list;
    if (kid === undefined || list === undefined || !list.keys.has(kid)) return;
    this.#findings.add(
      'key.revoked_key_used',
      `${what} at index ${entry.index} is signed by key ${kid}, revoked by the revocation list at index ${list.index} (seq ${list.seq}, ${isoTime(list.iat)})`,
      { index: entry.index, license },
    );
  }

  /**
   * A token whose signature no key checked in the worker: the key may come from a
   * certificate logged after the batch was sent.
   */
  async checkDeferred(entry: EntryFacts): Promise<EntryFacts['signature']> {
    const certificate = entry.kid === undefined ? undefined : this.#certified.get(entry.kid);
    if (certificate === undefined || entry.deferred === undefined) return 'unknown_key';
    const key = await this.#backend.importPublicKey(
      publicKeyBytes({ kty: 'OKP', crv: 'Ed25519', x: certificate.x }),
    );
    const valid = await this.#backend.verify(
      key,
      entry.deferred.signingInput,
      entry.deferred.signature,
    );
    return valid ? 'valid' : 'invalid';
  }

  /** The key-chain checks of one license token (its signature is checked already). */
  license(entry: EntryFacts, claims: LicenseClaims, signer: string): CertificateFacts | undefined {
    const index = entry.index!;
    const license = claims.sub;
    const embedded = entry.license?.embedded;
    if (embedded !== undefined) {
      if (!this.#embedded.has(embedded.hash)) this.#embedded.set(embedded.hash, index);
      if (!embedded.trusted)
        this.#untrusted(embedded, index, 'the certificate embedded at index ' + index);
    }
    this.#revokedUse(entry, entry.kid, `the token of ${license} seq ${claims.seq}`, license);
    if (signer === 'trusted') return undefined;
    const certificate =
      embedded?.trusted === true && embedded.kid === entry.kid
        ? embedded
        : entry.kid === undefined
          ? undefined
          : this.#certified.get(entry.kid);
    if (certificate === undefined) {
      this.#findings.add(
        'key.unknown_signer',
        `the token of ${license} seq ${claims.seq} is signed by key ${entry.kid}, which no trusted certificate in the export certifies`,
        { index, license },
      );
      return undefined;
    }
    if (claims.iat < certificate.nbf || claims.iat >= certificate.exp) {
      this.#findings.add(
        'key.certificate_not_valid',
        `the token of ${license} seq ${claims.seq} was issued ${isoTime(claims.iat)}, outside its issuer certificate's window ${isoTime(certificate.nbf)} to ${isoTime(certificate.exp)}`,
        { index, license },
      );
    }
    const inScope =
      certificate.products.includes(ALL_PRODUCTS) || certificate.products.includes(claims.aud);
    if (!inScope || certificate.iss !== claims.iss) {
      this.#findings.add(
        'key.out_of_scope',
        `the token of ${license} seq ${claims.seq} is for ${claims.iss}/${claims.aud}, but its issuer certificate covers ${certificate.iss}/${certificate.products.join(',')}`,
        { index, license },
      );
    }
    return certificate;
  }

  /** After the last entry: certificates tokens embed must be in the log too. */
  finish(): void {
    for (const [hash, index] of this.#embedded) {
      if (this.#loggedCertificates.has(hash)) continue;
      this.#findings.add(
        'key.certificate_not_logged',
        `the issuer certificate embedded from index ${index} on (hash ${hash}) is not in the log`,
        { index },
      );
    }
  }
}
