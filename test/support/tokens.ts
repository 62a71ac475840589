/**
 * A test-token factory that does not depend on @licensekit/issuer: keys from node:crypto,
 * documents built with core's own `prepare*` functions (so they are byte for byte what an
 * issuer emits), and a raw mode that signs arbitrary header and payload bytes, so hostile
 * tokens carry VALID signatures and the checks under test are the strict-profile checks,
 * not the signature check.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
} from 'node:crypto';
import type { IssuerCertificateClaims } from '../../packages/core/src/claims/certificate.js';
import {
  certificateClaimsToJson,
  certificateToCwt,
} from '../../packages/core/src/claims/certificate.js';
import type { LicenseClaims } from '../../packages/core/src/claims/license.js';
import { licenseClaimsToJson } from '../../packages/core/src/claims/license.js';
import { licenseToCwt } from '../../packages/core/src/claims/license-cwt.js';
import type { RevocationListClaims } from '../../packages/core/src/claims/revocation.js';
import {
  revocationClaimsToJson,
  revocationToCwt,
} from '../../packages/core/src/claims/revocation.js';
import { COSE_SIGN1_TAG, sigStructure } from '../../packages/core/src/codec/cose.js';
import type { PreparedDocument } from '../../packages/core/src/codec/jws.js';
import type { DocumentKind, TokenFormat } from '../../packages/core/src/codec/kinds.js';
import { COSE_TYPE, JWT_TYPE } from '../../packages/core/src/codec/kinds.js';
import {
  prepareCertificate,
  prepareLicense,
  prepareRevocationList,
} from '../../packages/core/src/codec/write.js';
import { base64urlDecode, base64urlEncode } from '../../packages/core/src/encoding/base64url.js';
import { type CborEncodable, encodeCbor } from '../../packages/core/src/encoding/cbor-encode.js';
import type { Ed25519PublicJwk } from '../../packages/core/src/keys.js';
import { bytes as cborBytes, concat, head } from './cbor.js';

// ───────────────────────────── keys ─────────────────────────────

export interface TestKey {
  readonly privateKey: KeyObject;
  /** The public JWK, exactly what an app embeds as a trust anchor. */
  readonly jwk: Ed25519PublicJwk;
  readonly x: string;
  /** RFC 7638 thumbprint (computed here independently of core's jwkThumbprint). */
  readonly kid: string;
  readonly raw: Uint8Array;
}

/** RFC 8037 §2 / RFC 7638: SHA-256 over {"crv","kty","x"} in that order, no whitespace. */
export function thumbprintOf(x: string): string {
  return createHash('sha256')
    .update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)
    .digest('base64url');
}

function toTestKey(privateKey: KeyObject): TestKey {
  const { x } = privateKey.export({ format: 'jwk' });
  if (x === undefined) throw new Error('no public part');
  return {
    privateKey,
    jwk: { kty: 'OKP', crv: 'Ed25519', x },
    x,
    kid: thumbprintOf(x),
    raw: base64urlDecode(x),
  };
}

export function generateTestKey(): TestKey {
  return toTestKey(generateKeyPairSync('ed25519').privateKey);
}

/** A key from a 32-byte RFC 8032 seed (deterministic keys for reproducible failures). */
export function testKeyFromSeed(seed: Uint8Array): TestKey {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  // RFC 8410 PKCS#8 wrapping of the seed; node:crypto derives the public key.
  const pkcs8 = concat(
    Uint8Array.from(Buffer.from('302e020100300506032b657004220420', 'hex')),
    seed,
  );
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return toTestKey(key);
}

export function signBytes(key: TestKey, message: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, message, key.privateKey));
}

// ───────────────────────────── claims ─────────────────────────────

/** 2025-11-21T04:40:00Z, the reference "now" of the tests. */
export const T0 = 1_763_700_000;
export const DAY = 86_400;
export const PRODUCT = 'photon';

/** Overrides where `undefined` removes an optional claim. */
export type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

function withOverrides<T extends object>(base: T, overrides: Overrides<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out as T;
}

export function randomTokenId(bytes = 16): string {
  return base64urlEncode(new Uint8Array(randomBytes(bytes)));
}

/** A valid license of a monthly plan, term T0 … T0 + 30 days, one week of grace. */
export function licenseClaims(overrides: Overrides<LicenseClaims> = {}): LicenseClaims {
  return withOverrides<LicenseClaims>(
    {
      iss: 'acme',
      sub: 'lic_01JD3K8X7Q2M5N9P',
      aud: PRODUCT,
      iat: T0,
      nbf: T0,
      exp: T0 + 30 * DAY,
      jti: randomTokenId(),
      plan: 'pro-monthly',
      access: 'full',
      ent: ['export-4k', 'batch'],
      quota: { exports: { limit: 1000, per: 'month' }, seats: { limit: 3 } },
      rfa: T0 + 20 * DAY,
      grace: 7 * DAY,
      seq: 0,
    },
    overrides,
  );
}

/** A certificate for `subject`, valid from a day before T0 for a year, scoped to PRODUCT. */
export function certificateClaims(
  subject: TestKey,
  overrides: Overrides<IssuerCertificateClaims> = {},
): IssuerCertificateClaims {
  return withOverrides<IssuerCertificateClaims>(
    {
      iss: 'acme',
      iat: T0 - DAY,
      nbf: T0 - DAY,
      exp: T0 + 365 * DAY,
      jti: randomTokenId(16),
      key: subject.x,
      products: [PRODUCT],
    },
    overrides,
  );
}

export function revocationClaims(
  overrides: Overrides<RevocationListClaims> = {},
): RevocationListClaims {
  return withOverrides<RevocationListClaims>(
    { iss: 'acme', iat: T0, seq: 1, next: T0 + DAY, keys: [], licenses: [], tokens: [] },
    overrides,
  );
}

// ───────────────────────────── signed documents ─────────────────────────────

export interface SignOptions {
  format: TokenFormat;
  /** kid written in the header (default: the signing key's). */
  kid?: string;
  /** Issuer certificate to embed (licenses only): token text (either format) or CWT bytes. */
  certificate?: string | Uint8Array;
  /**
   * Header overrides, which switch to raw mode. JWT: members merged into the protected
   * header (undefined removes one). CWT: labels merged into the protected header map.
   */
  jwtHeader?: Record<string, unknown>;
  coseHeader?: ReadonlyMap<number | string, CborEncodable | undefined>;
  /** CWT only: unprotected header entries. */
  unprotected?: ReadonlyMap<number | string, CborEncodable>;
}

type Payloads = { json: Record<string, unknown>; cwt: Map<number, CborEncodable> };

function build(
  key: TestKey,
  kind: DocumentKind,
  payloads: () => Payloads,
  prepare: () => PreparedDocument,
  options: SignOptions,
): string {
  const kid = options.kid ?? key.kid;
  const raw =
    options.jwtHeader !== undefined ||
    options.coseHeader !== undefined ||
    options.unprotected !== undefined;
  if (!raw) {
    const prepared = prepare();
    return prepared.finish(signBytes(key, prepared.signingInput));
  }
  const { json, cwt } = payloads();
  if (options.format === 'jwt') {
    const header = jwtHeader(kind, kid);
    if (options.certificate !== undefined) {
      header.crt =
        typeof options.certificate === 'string'
          ? options.certificate
          : base64urlEncode(options.certificate);
    }
    return rawJwt(key, mergeRecord(header, options.jwtHeader ?? {}), json);
  }
  const header = coseHeader(kind, kid);
  if (options.certificate !== undefined) {
    header.set(
      -65537,
      typeof options.certificate === 'string' && !options.certificate.includes('.')
        ? base64urlDecode(options.certificate)
        : options.certificate,
    );
  }
  for (const [label, value] of options.coseHeader ?? []) {
    if (value === undefined) header.delete(label);
    else header.set(label, value);
  }
  return rawCwt(key, header, cwt, {
    unprotected: new Map(options.unprotected ?? []),
  });
}

function mergeRecord(
  base: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[name];
    else Object.defineProperty(out, name, { value, enumerable: true, writable: true });
  }
  return out;
}

export function signLicense(key: TestKey, claims: LicenseClaims, options: SignOptions): string {
  const prepareOptions = {
    format: options.format,
    kid: options.kid ?? key.kid,
    ...(options.certificate === undefined ? {} : { certificate: options.certificate }),
  };
  return build(
    key,
    'license',
    () => ({ json: licenseClaimsToJson(claims), cwt: licenseToCwt(claims) }),
    () => prepareLicense(claims, prepareOptions),
    options,
  );
}

export function signCertificate(
  root: TestKey,
  claims: IssuerCertificateClaims,
  options: SignOptions,
): string {
  return build(
    root,
    'certificate',
    () => ({ json: certificateClaimsToJson(claims), cwt: certificateToCwt(claims) }),
    () => prepareCertificate(claims, { format: options.format, kid: options.kid ?? root.kid }),
    options,
  );
}

export function signRevocationList(
  key: TestKey,
  claims: RevocationListClaims,
  options: SignOptions,
): string {
  return build(
    key,
    'revocations',
    () => ({ json: revocationClaimsToJson(claims), cwt: revocationToCwt(claims) }),
    () => prepareRevocationList(claims, { format: options.format, kid: options.kid ?? key.kid }),
    options,
  );
}

// ───────────────────────────── raw mode ─────────────────────────────

/** The protected header licensekit emits for a JWT of `kind`. */
export function jwtHeader(kind: DocumentKind, kid: string): Record<string, unknown> {
  return { alg: 'EdDSA', typ: JWT_TYPE[kind], kid };
}

/** The protected header licensekit emits for a CWT of `kind` (alg −8, kid bytes, typ). */
export function coseHeader(kind: DocumentKind, kid: string): Map<number | string, CborEncodable> {
  return new Map<number | string, CborEncodable>([
    [1, -8],
    [4, base64urlDecode(kid)],
    [16, COSE_TYPE[kind]],
  ]);
}

/** A JWS part: an object (JSON.stringify), JSON text as is, or arbitrary bytes. */
export type JwsPart = Record<string, unknown> | string | Uint8Array;

function partBytes(part: JwsPart): Uint8Array {
  if (part instanceof Uint8Array) return part;
  return new TextEncoder().encode(typeof part === 'string' ? part : JSON.stringify(part));
}

/**
 * Signs `base64url(header).base64url(payload)` with `key` (or uses `signature` as given).
 * Nothing is checked: header and payload may be anything.
 */
export function rawJwt(
  key: TestKey,
  header: JwsPart,
  payload: JwsPart,
  options: { signature?: Uint8Array } = {},
): string {
  const signingInput = `${base64urlEncode(partBytes(header))}.${base64urlEncode(partBytes(payload))}`;
  const signature = options.signature ?? signBytes(key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${base64urlEncode(signature)}`;
}

/** A COSE part: a map (encoded with the project's cbor-x encoder) or its bytes as given. */
export type CosePart = ReadonlyMap<number | string, CborEncodable> | Uint8Array;

function coseBytes(part: CosePart): Uint8Array {
  return part instanceof Uint8Array
    ? part
    : encodeCbor(new Map(part) as Map<number | string, CborEncodable>);
}

export interface RawCoseOptions {
  /** Unprotected header: a map, or raw CBOR bytes of the item (default: empty map). */
  unprotected?: CosePart;
  /** Signature bytes to use instead of signing (e.g. an old signature). */
  signature?: Uint8Array;
  /** Outer tag (default 18, COSE_Sign1); null for none. */
  tag?: number | null;
  /** Wrap in the CWT tag 61 (RFC 8392 §6). */
  cwtTag?: boolean;
}

/**
 * A COSE_Sign1 over `protectedHeader` and `payload` (maps or raw bytes), signed over the
 * RFC 9052 Sig_structure, assembled by hand so every byte is under the test's control.
 */
export function rawCoseBytes(
  key: TestKey,
  protectedHeader: CosePart,
  payload: CosePart,
  options: RawCoseOptions = {},
): Uint8Array {
  const protectedBytes = coseBytes(protectedHeader);
  const payloadBytes = coseBytes(payload);
  const signature = options.signature ?? signBytes(key, sigStructure(protectedBytes, payloadBytes));
  const unprotected =
    options.unprotected === undefined ? Uint8Array.of(0xa0) : coseBytes(options.unprotected);
  let item = concat(
    head(4, 4),
    cborBytes(protectedBytes),
    unprotected,
    cborBytes(payloadBytes),
    cborBytes(signature),
  );
  const outer = options.tag === undefined ? COSE_SIGN1_TAG : options.tag;
  if (outer !== null) item = concat(head(6, outer), item);
  if (options.cwtTag) item = concat(head(6, 61), item);
  return item;
}

/** rawCoseBytes in the CWT text form (base64url). */
export function rawCwt(
  key: TestKey,
  protectedHeader: CosePart,
  payload: CosePart,
  options: RawCoseOptions = {},
): string {
  return base64urlEncode(rawCoseBytes(key, protectedHeader, payload, options));
}

/** The bytes a token stands for: a JWT's ASCII, a CWT's decoded base64url. */
export function tokenBytes(token: string): Uint8Array {
  return token.includes('.') ? new TextEncoder().encode(token) : base64urlDecode(token);
}

// ───────────────────────────── a small PKI ─────────────────────────────

export interface Pki {
  root: TestKey;
  issuer: TestKey;
  /** The issuer's certificate, signed by the root, in `format`. */
  certificate: string;
}

export function makePki(
  format: TokenFormat,
  overrides: Overrides<IssuerCertificateClaims> = {},
): Pki {
  const root = generateTestKey();
  const issuer = generateTestKey();
  return {
    root,
    issuer,
    certificate: signCertificate(root, certificateClaims(issuer, overrides), { format }),
  };
}

export const FORMATS: readonly TokenFormat[] = ['jwt', 'cwt'];
