/**
 * The per-entry work of an audit, independent of every other entry: read one line of
 * entries.jsonl, hash it into its Merkle leaf, decode the document under the strict
 * profile, read its claims and check its signature. It is what the worker threads run
 * (workers.ts), and what the main thread runs itself with `--workers 0`. Everything that
 * depends on order (lineage, revocations in force, the tree) stays in the main thread.
 */
import { createPublicKey, hash, type KeyObject, verify as verifyOneShot } from 'node:crypto';
import {
  base64urlDecode,
  type DecodedDocument,
  type DocumentKind,
  decodeDocument,
  jwkThumbprint,
  type LicenseClaims,
  publicKeyBytes,
  type RevocationListClaims,
  readCertificateClaims,
  readLicenseClaims,
  readRevocationClaims,
  tokenHash,
  utf8Decode,
} from '@licensekit/core';
import { logEntry } from '@licensekit/core/log';
import { BatchVerifier, type SignedMessage } from './batch-verify/batch.js';

/** A public key the audit trusts or has learned: its kid and JWK `x`. */
export interface KnownKey {
  readonly kid: string;
  readonly x: string;
}

export type SignatureVerdict = 'valid' | 'invalid' | 'unknown_key';

export interface CertificateFacts {
  /** Token hash of the certificate's bytes: how the audit recognises a logged certificate. */
  readonly hash: string;
  /** kid of the certified issuer key. */
  readonly kid: string;
  readonly x: string;
  /** kid of the key that signed the certificate. */
  readonly signerKid: string;
  /** Signed by a trusted root, and the signature verifies. */
  readonly trusted: boolean;
  readonly signature: SignatureVerdict;
  readonly iss: string;
  readonly nbf: number;
  readonly exp: number;
  readonly products: readonly string[];
}

export interface LicenseFacts {
  readonly claims: LicenseClaims;
  /** The certificate embedded in the token's header, when it has one. */
  readonly embedded?: CertificateFacts;
  /** Which key verified it: the embedded certificate's, a trusted key, or a logged issuer's. */
  readonly signer: 'certificate' | 'trusted' | 'issuer' | 'none';
}

export interface RevocationFacts {
  readonly claims: RevocationListClaims;
  /** Signed by a trusted root (verifiers accept lists only from keys they trust directly). */
  readonly trusted: boolean;
}

/** What one line of entries.jsonl says, after every order-independent check. */
export interface EntryFacts {
  /** 1-based line number in entries.jsonl. */
  readonly line: number;
  /** Why the line is not a log entry at all (then there is no leaf). */
  readonly unreadable?: string;
  readonly index?: number;
  readonly kind?: DocumentKind;
  /** When the store logged it, seconds. */
  readonly loggedAt?: number;
  /** RFC 9162 leaf hash of the entry (kind tag ‖ document). */
  readonly leaf?: Uint8Array;
  /** SHA-256 of the document's bytes, base64url (the token hash). */
  readonly documentHash?: string;
  /** The documentHash the line declares. */
  readonly declaredHash?: string;
  /** Why the document fails the strict profile or the claim model. */
  readonly malformed?: string;
  readonly kid?: string;
  readonly signature?: SignatureVerdict;
  /** For a signature no known key could check yet: what the main thread checks later. */
  readonly deferred?: { readonly signingInput: Uint8Array; readonly signature: Uint8Array };
  readonly license?: LicenseFacts;
  readonly certificate?: CertificateFacts;
  readonly revocations?: RevocationFacts;
}

const KINDS: ReadonlySet<string> = new Set(['license', 'certificate', 'revocations']);
/** COSE_Sign1's tag 18 as the first CBOR byte: a logged CWT is its raw bytes. */
const COSE_SIGN1_TAG = 0xd2;
const MAX_CACHED_CERTIFICATES = 64;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Ed25519 lengths (RFC 8032 §5.1.5–5.1.6), checked before OpenSSL sees the bytes. */
const PUBLIC_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

/** A certificate's facts once checked, or the promise of them while they are checked. */
type CertificateCheck = CertificateFacts | string;

/**
 * Per-thread state: imported keys and certificates already checked. A store embeds the
 * same certificate in every token, so it is verified once per thread, not once per token.
 *
 * Signatures are verified with node:crypto's one-shot `verify` on a KeyObject made once
 * per key, synchronously, with the node backend's rules (wrong lengths or a key OpenSSL
 * refuses verify nothing; an OpenSSL error is `false`; tested equal to the backend): the
 * backend's promises cost several microtasks and allocations per entry, and the audit is
 * Node-only. Between openBatch and settleBatch (the workers, per chunk), license tokens'
 * signatures are instead checked together (batch-verify/batch.ts, several times less CPU
 * per signature), and one by one with the same rules when the batch fails. A token whose
 * embedded certificate is already known is examined without a single await.
 */
export class Examiner {
  readonly #roots = new Map<string, KnownKey>();
  readonly #issuers = new Map<string, KnownKey>();
  readonly #keyObjects = new Map<string, KeyObject | null>();
  /**
   * Embedded certificates checked, newest last: a store embeds one or two (one a token
   * format) in every token, so a short list compared byte for byte is all the cache needs.
   */
  readonly #certificates: {
    key: string | Uint8Array;
    facts: CertificateCheck | Promise<CertificateCheck>;
  }[] = [];

  /** License signatures collected between openBatch and settleBatch (batch-verify/). */
  #batch: { items: SignedMessage[]; keys: KnownKey[]; lines: number[] } | undefined;
  #batchVerifier: BatchVerifier | undefined;
  readonly #publicKeys = new Map<string, Uint8Array>();

  private constructor(roots: readonly KnownKey[]) {
    for (const root of roots) this.#roots.set(root.kid, root);
  }

  static async create(roots: readonly KnownKey[]): Promise<Examiner> {
    return new Examiner(roots);
  }

  /** Issuer keys the main thread has learned from logged, root-signed certificates. */
  learnIssuers(keys: readonly KnownKey[]): void {
    for (const key of keys) this.#issuers.set(key.kid, key);
  }

  /**
   * The key's KeyObject, null when node:crypto refuses it.
   * @throws MalformedError when `x` is not base64url (as core's `publicKeyBytes`)
   */
  #keyObject(key: KnownKey): KeyObject | null {
    let keyObject = this.#keyObjects.get(key.x);
    if (keyObject === undefined) {
      keyObject = importKeyObject(publicKeyBytes({ kty: 'OKP', crv: 'Ed25519', x: key.x }));
      this.#keyObjects.set(key.x, keyObject);
    }
    return keyObject;
  }

  /**
   * From now on, license tokens' signatures are collected and reported `valid`; settleBatch
   * checks them all at once and says which lines' signatures do not verify. Certificates
   * and revocation lists are still checked at once: their verdict decides trust.
   */
  openBatch(): void {
    this.#batch = { items: [], keys: [], lines: [] };
  }

  /** The lines (as given to examine) of the collected signatures that do not verify. */
  settleBatch(): Set<number> {
    const batch = this.#batch;
    this.#batch = undefined;
    const invalid = new Set<number>();
    if (batch === undefined || batch.items.length === 0) return invalid;
    this.#batchVerifier ??= new BatchVerifier();
    const verdicts = this.#batchVerifier.verifyEach(batch.items, (item, at) =>
      verifyEd25519(this.#keyObject(batch.keys[at]!), item.message, item.signature),
    );
    verdicts.forEach((valid, at) => {
      if (!valid) invalid.add(batch.lines[at]!);
    });
    return invalid;
  }

  /** The key's 32 bytes (empty when `x` is not base64url: checked alone, and refused). */
  #publicKey(key: KnownKey): Uint8Array {
    let bytes = this.#publicKeys.get(key.x);
    if (bytes === undefined) {
      try {
        bytes = publicKeyBytes({ kty: 'OKP', crv: 'Ed25519', x: key.x });
      } catch {
        bytes = new Uint8Array(0);
      }
      this.#publicKeys.set(key.x, bytes);
    }
    return bytes;
  }

  /** A license token's signature: at once, or into the open batch (then `valid` for now). */
  #verifyLicense(key: KnownKey, document: DecodedDocument, line: number): boolean {
    const batch = this.#batch;
    const publicKey = batch === undefined ? undefined : this.#publicKey(key);
    // A key that is not base64url throws here, inside examine's catch, as it always did.
    if (batch === undefined || publicKey?.length === 0) return this.#verify(key, document);
    batch.items.push({
      publicKey: publicKey!,
      message: document.signingInput,
      signature: document.signature,
    });
    batch.keys.push(key);
    batch.lines.push(line);
    return true;
  }

  #verify(key: KnownKey, document: DecodedDocument): boolean {
    return verifyEd25519(this.#keyObject(key), document.signingInput, document.signature);
  }

  async #certificateFacts(document: DecodedDocument, hash: string): Promise<CertificateFacts> {
    const claims = readCertificateClaims(document);
    const root = this.#roots.get(document.kid);
    const signature: SignatureVerdict =
      root === undefined ? 'unknown_key' : this.#verify(root, document) ? 'valid' : 'invalid';
    return {
      hash,
      kid: await jwkThumbprint({ x: claims.key }),
      x: claims.key,
      signerKid: document.kid,
      trusted: signature === 'valid',
      signature,
      iss: claims.iss,
      nbf: claims.nbf,
      exp: claims.exp,
      products: claims.products,
    };
  }

  /**
   * An embedded certificate, checked once per thread; a string says why it is unreadable.
   * A promise only the first time a thread meets the certificate.
   */
  #embedded(certificate: string | Uint8Array): CertificateCheck | Promise<CertificateCheck> {
    const cached = this.#certificates;
    for (let at = cached.length - 1; at >= 0; at--) {
      if (sameKey(cached[at]!.key, certificate)) return cached[at]!.facts;
    }
    const entry: (typeof cached)[number] = {
      // A copy (not `.slice()`, a view on a Node Buffer): the bytes may be a view of a
      // buffer the caller reuses.
      key: typeof certificate === 'string' ? certificate : new Uint8Array(certificate),
      facts: (async () => {
        try {
          const document = decodeDocument(certificate, 'certificate');
          return await this.#certificateFacts(document, await tokenHash(document.bytes));
        } catch (error) {
          return message(error);
        }
      })(),
    };
    // Once known, the facts themselves: later tokens read them without an await.
    void (entry.facts as Promise<CertificateCheck>).then((facts) => {
      entry.facts = facts;
    });
    if (cached.length >= MAX_CACHED_CERTIFICATES) cached.shift();
    cached.push(entry);
    return entry.facts;
  }

  /** A promise only while the token's embedded certificate is checked the first time. */
  #license(document: DecodedDocument, line: number): Found | Promise<Found> {
    const claims = readLicenseClaims(document);
    if (document.certificate === undefined) {
      return this.#licenseWith(document, claims, undefined, line);
    }
    const embedded = this.#embedded(document.certificate);
    return embedded instanceof Promise
      ? embedded.then((facts) => this.#licenseWith(document, claims, facts, line))
      : this.#licenseWith(document, claims, embedded, line);
  }

  #licenseWith(
    document: DecodedDocument,
    claims: LicenseClaims,
    embedded: CertificateCheck | undefined,
    line: number,
  ): Found {
    if (typeof embedded === 'string') {
      return { malformed: `the embedded issuer certificate is malformed: ${embedded}` };
    }
    // The key: the embedded certificate's when it certifies this kid and a root signed it,
    // else a key trusted directly, else an issuer key from a logged certificate.
    let signer: LicenseFacts['signer'] = 'certificate';
    let key: KnownKey | undefined =
      embedded?.trusted === true && embedded.kid === document.kid ? embedded : undefined;
    if (key === undefined) {
      signer = 'trusted';
      key = this.#roots.get(document.kid);
    }
    if (key === undefined) {
      signer = 'issuer';
      key = this.#issuers.get(document.kid);
    }
    if (key === undefined) {
      return {
        signature: 'unknown_key',
        deferred: { signingInput: document.signingInput, signature: document.signature },
        license: licenseFacts(claims, embedded, 'none'),
      };
    }
    return {
      signature: this.#verifyLicense(key, document, line) ? 'valid' : 'invalid',
      license: licenseFacts(claims, embedded, signer),
    };
  }

  #revocations(document: DecodedDocument): Found {
    const claims = readRevocationClaims(document);
    const root = this.#roots.get(document.kid);
    const key = root ?? this.#issuers.get(document.kid);
    if (key === undefined) {
      return { signature: 'unknown_key', revocations: { claims, trusted: false } };
    }
    const valid = this.#verify(key, document);
    return {
      signature: valid ? 'valid' : 'invalid',
      revocations: { claims, trusted: valid && root !== undefined },
    };
  }

  /**
   * Everything about one line that does not depend on any other line. A promise only when
   * the line brings a certificate this thread has not checked yet.
   */
  examine(text: string, line: number): EntryFacts | Promise<EntryFacts> {
    let record: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error();
      record = value as Record<string, unknown>;
    } catch {
      return { line, unreadable: 'not a JSON object' };
    }
    const { index, kind, document, documentHash, loggedAt } = record;
    if (!Number.isSafeInteger(index) || (index as number) < 0) {
      return { line, unreadable: 'no index (a non-negative integer)' };
    }
    if (typeof kind !== 'string' || !KINDS.has(kind)) {
      return { line, index: index as number, unreadable: `unknown kind ${JSON.stringify(kind)}` };
    }
    const documentKind = kind as DocumentKind;
    let bytes: Uint8Array;
    let leaf: Uint8Array;
    try {
      if (typeof document !== 'string') throw new Error('document is not a string');
      bytes = decodeBase64url(document);
      leaf = leafHashOf(documentKind, bytes);
    } catch (error) {
      return {
        line,
        index: index as number,
        kind: documentKind,
        unreadable: `the document is not base64url of a loggable document: ${message(error)}`,
      };
    }
    const time = typeof loggedAt === 'string' ? Date.parse(loggedAt) : Number.NaN;
    const hash = sha256(bytes, 'base64url');
    // One object per entry, built in place: it is what crosses to the main thread.
    const facts: MutableFacts = {
      line,
      index: index as number,
      kind: documentKind,
      leaf,
      documentHash: hash,
    };
    // The declared hash only when it differs: the main thread reports it then.
    if (typeof documentHash === 'string' && documentHash !== hash)
      facts.declaredHash = documentHash;
    if (!Number.isNaN(time)) facts.loggedAt = Math.floor(time / 1000);
    let decoded: DecodedDocument;
    let found: Found | Promise<Found>;
    try {
      decoded = decodeLogged(bytes, documentKind);
      found =
        documentKind === 'license'
          ? this.#license(decoded, line)
          : documentKind === 'revocations'
            ? this.#revocations(decoded)
            : this.#certificateEntry(decoded, hash);
    } catch (error) {
      facts.malformed = message(error);
      return facts;
    }
    if (!(found instanceof Promise)) return withFound(facts, decoded.kid, found);
    return found.then(
      (value) => withFound(facts, decoded.kid, value),
      (error: unknown) => {
        facts.malformed = message(error);
        return facts;
      },
    );
  }

  async #certificateEntry(document: DecodedDocument, hash: string): Promise<Found> {
    const certificate = await this.#certificateFacts(document, hash);
    return { signature: certificate.signature, certificate };
  }
}

type MutableFacts = { -readonly [K in keyof EntryFacts]: EntryFacts[K] };
type Found = Partial<EntryFacts>;

function withFound(facts: MutableFacts, kid: string, found: Found): EntryFacts {
  facts.kid = kid;
  return Object.assign(facts, found);
}

function licenseFacts(
  claims: LicenseClaims,
  embedded: CertificateFacts | undefined,
  signer: LicenseFacts['signer'],
): LicenseFacts {
  return embedded === undefined ? { claims, signer } : { claims, embedded, signer };
}

/** node's backend's KeyObject import: null when node:crypto refuses the bytes. */
function importKeyObject(raw: Uint8Array): KeyObject | null {
  if (raw.length !== PUBLIC_KEY_LENGTH) return null;
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url');
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return null;
  }
}

/**
 * Ed25519 verify as core's node backend does it, without its promise: false for a refused
 * key, a signature of another length, or any error from OpenSSL.
 */
export function verifyEd25519(
  key: KeyObject | null,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (key === null || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return verifyOneShot(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * base64url to bytes with node's native decoder, which is lenient (it skips what is not
 * base64url): its answer is taken only when the bytes encode back to the very same text,
 * i.e. the text was canonical base64url; anything else goes through core's strict decoder,
 * for its exact error.
 */
function decodeBase64url(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64url');
  // A plain Uint8Array over the same memory: every view the strict decoder takes of a
  // Buffer would be a Buffer too, and a Buffer's construction costs several times a
  // Uint8Array's, a few times per entry.
  if (bytes.toString('base64url') === text)
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return base64urlDecode(text, 'document');
}

const LEAF_PREFIX = new Uint8Array([0x00]);

/**
 * RFC 9162 leaf hash of the document's log entry, as core's `logEntryHash` computes it
 * (SHA-256(0x00 ‖ tag ‖ document), tested equal), but synchronous: core's hashes are
 * promises for the browsers' `crypto.subtle`, and an await per hash is a measurable part of
 * an audit's time per entry.
 */
export function leafHashOf(kind: DocumentKind, document: Uint8Array): Uint8Array {
  const entry = logEntry(kind, document);
  const input = Buffer.allocUnsafe(entry.length + 1);
  input.set(LEAF_PREFIX, 0);
  input.set(entry, 1);
  return sha256(input, 'buffer');
}

/** node:crypto's one-shot SHA-256 (no Hash object per call). */
function sha256(data: Uint8Array, encoding: 'buffer'): Uint8Array;
function sha256(data: Uint8Array, encoding: 'base64url'): string;
function sha256(data: Uint8Array, encoding: 'buffer' | 'base64url'): Uint8Array | string {
  return hash('sha256', data, encoding as 'buffer');
}

/** The same certificate text, or the same bytes. */
function sameKey(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * A logged document's bytes back to a decoded document: a CWT is logged as its raw
 * COSE_Sign1 bytes (first byte 0xD2, tag 18), a JWT as the ASCII of its compact form.
 * @throws MalformedError or Error
 */
function decodeLogged(bytes: Uint8Array, kind: DocumentKind): DecodedDocument {
  if (bytes[0] === COSE_SIGN1_TAG) return decodeDocument(bytes, kind);
  const text = utf8Decode(bytes);
  if (!text.includes('.')) {
    throw new Error('neither a COSE_Sign1 (CWT) nor a compact JWS (JWT)');
  }
  return decodeDocument(text, kind);
}
