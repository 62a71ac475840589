import { base64urlEncodeShort } from '../encoding/base64url.js';
import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import { CborTag, decodeStrictCbor } from '../encoding/cbor-decode.js';
import { utf8Encode } from '../encoding/utf8.js';
import { MalformedError } from '../errors.js';
import type { DecodedDocument } from './document.js';
import type { DocumentKind } from './kinds.js';
import {
  COSE_ALGORITHMS,
  COSE_CONTENT_FORMAT,
  kindFromCoseType,
  MAX_DOCUMENT_LENGTH,
  MAX_NESTING,
} from './kinds.js';

/**
 * COSE_Sign1 (RFC 9052 §4.2), tagged (18), optionally inside the CWT tag (61, RFC 8392 §6),
 * under the strict profile. Header labels (RFC 9052 §3.1, IANA COSE Header Parameters):
 * alg 1, crit 2, kid 4, typ 16 (RFC 9596). Key-carrying headers (x5bag 32, x5chain 33,
 * x5t 34, x5u 35, kcwt 13, kccs 14) are refused: no key is ever taken from a token.
 */

export const COSE_SIGN1_TAG = 18;
export const CWT_TAG = 61;
export const COSE_SIGN_TAG = 98;

export const HEADER = { alg: 1, crit: 2, kid: 4, typ: 16 } as const;
/** Private-use header label (RFC 9052 §16.2: below −65536) carrying the issuer certificate. */
export const CERTIFICATE_HEADER = -65537;

const FORBIDDEN_LABELS = [13, 14, 32, 33, 34, 35];

/** Strict profile: no CWT tag (61) around it, no COSE_Sign (98) or untagged array. */
const NOT_SIGN1 = 'CWT must be a COSE_Sign1 with tag 18 alone';

/** The COSE_Sign1 parts as decoded, before any header is interpreted. */
export interface CoseSign1 {
  /** The outermost tag: 18, or 61 (CWT) when the COSE_Sign1 was wrapped in it. */
  tagged: number;
  protectedBytes: Uint8Array;
  protectedHeader: Map<CborKey, CborValue>;
  unprotectedHeader: Map<CborKey, CborValue>;
  payload: Uint8Array;
  signature: Uint8Array;
}

/** Decodes the COSE_Sign1 structure only (used by the vector tests and by decodeCose). */
export function decodeCoseSign1(bytes: Uint8Array, share = false): CoseSign1 {
  let item = decodeStrictCbor(bytes, { maxDepth: MAX_NESTING, what: 'COSE_Sign1', share });
  const tagged = item instanceof CborTag ? item.tag : -1;
  if (item instanceof CborTag && item.tag === CWT_TAG) item = item.value;
  if (item instanceof CborTag && item.tag === COSE_SIGN_TAG) {
    throw new MalformedError('bad_structure', 'COSE_Sign is not supported; use COSE_Sign1');
  }
  if (!(item instanceof CborTag) || item.tag !== COSE_SIGN1_TAG) {
    throw new MalformedError('bad_structure', NOT_SIGN1);
  }
  const parts = item.value;
  const [protectedBytes, unprotectedHeader, payload, signature] = Array.isArray(parts) ? parts : [];
  if (
    (parts as CborValue[]).length !== 4 ||
    !(protectedBytes instanceof Uint8Array) ||
    !(unprotectedHeader instanceof Map) ||
    !(payload instanceof Uint8Array) ||
    !(signature instanceof Uint8Array)
  ) {
    throw new MalformedError(
      'bad_structure',
      'COSE_Sign1 must be [protected bytes, unprotected map, payload, signature]',
    );
  }
  // RFC 9052 §3: an empty protected header is the zero-length byte string. Its byte
  // strings (kid, an embedded certificate) are copies: verifiers keep a certificate they
  // have checked, and the token's bytes may be a buffer its owner reuses.
  const protectedHeader =
    protectedBytes.length === 0
      ? new Map<CborKey, CborValue>()
      : decodeStrictCbor(protectedBytes, { maxDepth: MAX_NESTING, what: 'COSE protected header' });
  if (!(protectedHeader instanceof Map)) {
    throw new MalformedError('bad_structure', 'COSE protected header must be a map');
  }
  return { tagged, protectedBytes, protectedHeader, unprotectedHeader, payload, signature };
}

/** Names the key of a license that carries its certificate and no kid (certified-kid.ts). */
export type KidOfCertificate = (certificate: string | Uint8Array) => string;

/**
 * Decodes a CWT license, certificate or revocation list and checks its headers. A license
 * may leave `kid` out when it embeds its certificate; `kidOf` then derives the kid from the
 * certificate, and without it the kid is empty (the verifier learns the key when it checks
 * the certificate).
 */
export function decodeCose(
  bytes: Uint8Array,
  expected?: DocumentKind,
  kidOf?: KidOfCertificate,
): DecodedDocument {
  const cap = MAX_DOCUMENT_LENGTH[expected ?? 'revocations'];
  if (bytes.length > cap) throw new MalformedError('too_large', `token exceeds ${cap} bytes`);
  // The parts and the claims' byte strings are views into the token's bytes (the claim
  // readers turn those into text, so none outlives the decoded document); the
  // Sig_structure is a copy.
  const sign1 = decodeCoseSign1(bytes, true);
  const header = sign1.protectedHeader;
  const alg = header.get(HEADER.alg);
  if (alg !== COSE_ALGORITHMS[0] && alg !== COSE_ALGORITHMS[1]) {
    throw new MalformedError(
      'unsupported_alg',
      `protected COSE alg must be EdDSA, got ${String(alg)}`,
    );
  }
  for (const label of FORBIDDEN_LABELS) {
    if (header.has(label) || sign1.unprotectedHeader.has(label)) {
      throw new MalformedError('forbidden_header', `COSE header ${label} is not accepted`);
    }
  }
  if (header.has(HEADER.crit) || sign1.unprotectedHeader.has(HEADER.crit)) {
    throw new MalformedError('unknown_crit', 'COSE crit is not understood');
  }
  // Strict profile: every header is protected and the COSE_Sign1 carries tag 18 alone, so
  // a token has exactly one encoding and its hash (lineage, rollback) identifies it.
  if (sign1.unprotectedHeader.size > 0) {
    throw new MalformedError('bad_structure', 'COSE unprotected header must be empty');
  }
  if (sign1.tagged !== COSE_SIGN1_TAG) {
    throw new MalformedError('bad_structure', NOT_SIGN1);
  }
  const kind = kindFromCoseType(header.get(HEADER.typ));
  const kid = header.get(HEADER.kid);
  const certificate = header.get(CERTIFICATE_HEADER);
  // A license may leave its kid out (0.3): beside a certificate, which names the key, or
  // bare, when its verifier tries the keys it trusts directly. Certificates and revocation
  // lists always name their signer.
  if (kid !== undefined || (kind !== 'license' && kind !== undefined)) {
    if (!(kid instanceof Uint8Array) || kid.length !== 32) {
      throw new MalformedError('bad_kid', 'COSE kid must be a 32-byte key thumbprint');
    }
  }
  if (kind === undefined || (expected !== undefined && kind !== expected)) {
    throw new MalformedError(
      'wrong_type',
      `COSE typ must be ${expected ? COSE_CONTENT_FORMAT[expected] : 'a licensekit type'}`,
    );
  }
  const payload = decodeStrictCbor(sign1.payload, {
    maxDepth: MAX_NESTING,
    what: 'CWT claims',
    share: true,
  });
  if (!(payload instanceof Map))
    throw new MalformedError('bad_structure', 'CWT claims must be a map');
  if (sign1.signature.length !== 64)
    throw new MalformedError('bad_structure', 'Ed25519 signature must be 64 bytes');
  const document: DecodedDocument = {
    format: 'cwt',
    kind,
    kid: '',
    payload,
    signingInput: sigStructure(sign1.protectedBytes, sign1.payload),
    signature: sign1.signature,
    bytes,
  };
  if (certificate !== undefined) {
    if (
      kind !== 'license' ||
      !(certificate instanceof Uint8Array || typeof certificate === 'string')
    ) {
      throw new MalformedError('bad_certificate', 'only a license carries a certificate');
    }
    document.certificate = certificate;
  }
  // Without a kid the certificate names the key: its thumbprint is the kid. A bare license
  // without kid keeps the empty kid, which names no key.
  if (kid instanceof Uint8Array) document.kid = base64urlEncodeShort(kid);
  else if (kidOf && document.certificate !== undefined) document.kid = kidOf(document.certificate);
  return document;
}

/** CBOR initial byte(s) of a definite-length item of major type `major` (shortest form). */
export function cborHead(major: number, length: number): Uint8Array {
  const m = major << 5;
  if (length < 24) return Uint8Array.of(m | length);
  if (length < 0x100) return Uint8Array.of(m | 24, length);
  if (length < 0x10000) return Uint8Array.of(m | 25, length >> 8, length & 255);
  return Uint8Array.of(
    m | 26,
    length >>> 24,
    (length >> 16) & 255,
    (length >> 8) & 255,
    length & 255,
  );
}

const SIGNATURE1 = utf8Encode('Signature1');
// The fixed start of every Sig_structure: array(4) and the context text.
const SIGNATURE1_PREFIX = Uint8Array.of(0x84, 0x60 | SIGNATURE1.length, ...SIGNATURE1);

/**
 * Sig_structure (RFC 9052 §4.4) = ["Signature1", body_protected, external_aad, payload]
 * with empty external_aad. Written by hand so the verifier needs no CBOR encoder.
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(
    SIGNATURE1_PREFIX.length + 11 + protectedBytes.length + payload.length,
  );
  out.set(SIGNATURE1_PREFIX);
  let offset = writeHead(out, SIGNATURE1_PREFIX.length, 2, protectedBytes.length);
  out.set(protectedBytes, offset);
  offset += protectedBytes.length;
  out[offset++] = 0x40; // h'': the empty external_aad
  offset = writeHead(out, offset, 2, payload.length);
  out.set(payload, offset);
  return out.subarray(0, offset + payload.length);
}

/** Bytes of the head of a definite-length item with this argument. */
export function headLength(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/** Writes the shortest head (major type, length) at `offset`; returns the offset after it. */
export function writeHead(out: Uint8Array, offset: number, major: number, length: number): number {
  const m = major << 5;
  if (length < 24) {
    out[offset] = m | length;
    return offset + 1;
  }
  if (length < 0x100) {
    out[offset] = m | 24;
    out[offset + 1] = length;
    return offset + 2;
  }
  if (length < 0x10000) {
    out[offset] = m | 25;
    out[offset + 1] = length >> 8;
    out[offset + 2] = length & 255;
    return offset + 3;
  }
  out[offset] = m | 26;
  out[offset + 1] = length >>> 24;
  out[offset + 2] = (length >> 16) & 255;
  out[offset + 3] = (length >> 8) & 255;
  out[offset + 4] = length & 255;
  return offset + 5;
}
