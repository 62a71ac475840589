import type { IssuerCertificateClaims } from '../claims/certificate.js';
import { certificateJsonFromCwt, parseCertificateClaims } from '../claims/certificate.js';
import type { LicenseClaims } from '../claims/license.js';
import { parseLicenseClaims } from '../claims/license.js';
import { licenseClaimsFromCwt } from '../claims/license-cwt.js';
import { base64urlDecode } from '../encoding/base64url.js';
import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import { ClaimError, MalformedError } from '../errors.js';
import { certifiedKid } from './certified-kid.js';
import type { KidOfCertificate } from './cose.js';
import { decodeCose } from './cose.js';
import type { DecodedDocument } from './document.js';
import { decodeJws } from './jws.js';
import type { DocumentKind } from './kinds.js';
import { MAX_DOCUMENT_LENGTH } from './kinds.js';

/**
 * Decodes a token in either format: a string with dots is a JWT; any other string is the
 * base64url text form of a CWT; bytes are a binary CWT. The size cap applies to the input
 * as given, before anything is decoded. A CWT license that names its key through its
 * certificate (no `kid`) gets that key's thumbprint as `kid` (codec/certified-kid.ts).
 * @throws MalformedError
 */
export function decodeDocument(
  input: string | Uint8Array,
  expected?: DocumentKind,
): DecodedDocument {
  return decodeEither(input, expected, namedByCertificate);
}

/**
 * Decodes a CWT only (text form or bytes); a JWT is refused. Apps that only ever receive
 * CWTs use this so that their bundles leave out the JSON and JWS code.
 * @throws MalformedError
 */
export function decodeCwtDocument(
  input: string | Uint8Array,
  expected?: DocumentKind,
): DecodedDocument {
  return decodeCwtOnly(input, expected, namedByCwtCertificate);
}

/**
 * The decoders of the verifier: as {@link decodeDocument} and {@link decodeCwtDocument},
 * except that a license without `kid` keeps the empty kid. The verifier reads the key from
 * the certificate it checks anyway (with the platform's SHA-256), so its bundles carry no
 * synchronous SHA-256 and no second reading of the certificate.
 * @throws MalformedError
 */
export function decodeUnnamedDocument(
  input: string | Uint8Array,
  expected?: DocumentKind,
): DecodedDocument {
  return decodeEither(input, expected);
}

/** {@link decodeUnnamedDocument} for CWT only. @throws MalformedError */
export function decodeUnnamedCwtDocument(
  input: string | Uint8Array,
  expected?: DocumentKind,
): DecodedDocument {
  return decodeCwtOnly(input, expected);
}

const namedByCertificate = (certificate: string | Uint8Array) =>
  certifiedKid(certificate, decodeDocument);
const namedByCwtCertificate = (certificate: string | Uint8Array) =>
  certifiedKid(certificate, decodeCwtDocument);

function decodeEither(
  input: string | Uint8Array,
  expected: DocumentKind | undefined,
  kidOf?: KidOfCertificate,
): DecodedDocument {
  if (typeof input !== 'string') return decodeCose(input, expected, kidOf);
  const cap = MAX_DOCUMENT_LENGTH[expected ?? 'revocations'];
  if (input.length > cap) throw new MalformedError('too_large', `token exceeds ${cap} characters`);
  if (input.includes('.')) return decodeJws(input, expected);
  return decodeCose(base64urlDecode(input, 'CWT'), expected, kidOf);
}

function decodeCwtOnly(
  input: string | Uint8Array,
  expected: DocumentKind | undefined,
  kidOf?: KidOfCertificate,
): DecodedDocument {
  if (typeof input !== 'string') return decodeCose(input, expected, kidOf);
  const cap = MAX_DOCUMENT_LENGTH[expected ?? 'revocations'];
  if (input.length > cap) throw new MalformedError('too_large', `token exceeds ${cap} characters`);
  if (input.includes('.'))
    throw new MalformedError('bad_structure', 'only CWT tokens are accepted here');
  return decodeCose(base64urlDecode(input, 'CWT'), expected, kidOf);
}

/** The JSON-shaped payload: a JWT's as decoded, a CWT's mapped from its integer labels. */
export function payloadJson(
  document: DecodedDocument,
  fromCwt: (map: Map<CborKey, CborValue>) => Record<string, unknown>,
): Record<string, unknown> {
  return document.payload instanceof Map ? fromCwt(document.payload) : document.payload;
}

/** Reads and validates claims; a claim error becomes MalformedError('bad_claims'). */
export function readClaims<T>(document: DecodedDocument, kind: DocumentKind, read: () => T): T {
  if (document.kind !== kind) throw new MalformedError('wrong_type', `document is not a ${kind}`);
  try {
    return read();
  } catch (error) {
    if (error instanceof ClaimError) throw new MalformedError('bad_claims', error.message);
    throw error;
  }
}

export function readLicenseClaims(document: DecodedDocument): LicenseClaims {
  const { payload } = document;
  return readClaims(document, 'license', () =>
    payload instanceof Map ? licenseClaimsFromCwt(payload) : parseLicenseClaims(payload),
  );
}

export function readCertificateClaims(document: DecodedDocument): IssuerCertificateClaims {
  return readClaims(document, 'certificate', () =>
    parseCertificateClaims(payloadJson(document, certificateJsonFromCwt)),
  );
}
