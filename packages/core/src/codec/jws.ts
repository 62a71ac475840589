import { base64urlDecode, base64urlEncode, isBase64urlOfLength } from '../encoding/base64url.js';
import { isJsonObject, parseStrictJson } from '../encoding/json.js';
import { utf8Decode, utf8Encode } from '../encoding/utf8.js';
import { MalformedError } from '../errors.js';
import type { DecodedDocument } from './document.js';
import type { DocumentKind } from './kinds.js';
import {
  JWS_ALGORITHMS,
  JWT_TYPE,
  kindFromJwtType,
  MAX_DOCUMENT_LENGTH,
  MAX_NESTING,
} from './kinds.js';

/**
 * JWS compact serialization (RFC 7515 §7.1) under the strict profile. The verifier never
 * takes a key from a header: `jwk`, `jku`, `x5u`, `x5c` and the x5t thumbprints are refused
 * outright (RFC 8725 §3.10), as are `b64` and `zip`, which change what the signature
 * covers. No extension is understood, so any `crit` is rejected (RFC 7515 §4.1.11).
 */

/** Header parameter that carries the issuer certificate (a signed document, not a key). */
export const JWT_CERTIFICATE_HEADER = 'crt';

const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'b64', 'zip'];

export function decodeJws(token: string, expected?: DocumentKind): DecodedDocument {
  if (token.length > MAX_DOCUMENT_LENGTH[expected ?? 'revocations']) {
    throw new MalformedError(
      'too_large',
      `token exceeds ${MAX_DOCUMENT_LENGTH[expected ?? 'revocations']} characters`,
    );
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw new MalformedError('bad_structure', 'a JWT has exactly three dot-separated parts');
  }
  const headerJson = parseStrictJson(
    utf8Decode(base64urlDecode(token.slice(0, first), 'JWT header'), 'JWT header'),
    { maxDepth: 2, what: 'JWT header', integersOnly: true },
  );
  if (!isJsonObject(headerJson))
    throw new MalformedError('bad_structure', 'JWT header is not a JSON object');
  const header = checkHeader(headerJson, expected);
  const payload = parseStrictJson(
    utf8Decode(base64urlDecode(token.slice(first + 1, second), 'JWT payload'), 'JWT payload'),
    { maxDepth: MAX_NESTING, what: 'JWT payload', integersOnly: true },
  );
  if (!isJsonObject(payload))
    throw new MalformedError('bad_structure', 'JWT payload is not a JSON object');
  const signature = base64urlDecode(token.slice(second + 1), 'JWT signature');
  if (signature.length !== 64)
    throw new MalformedError('bad_structure', 'an Ed25519 signature is 64 bytes');
  const bytes = utf8Encode(token);
  const document: DecodedDocument = {
    format: 'jwt',
    kind: header.kind,
    kid: header.kid,
    payload,
    signingInput: bytes.subarray(0, second),
    signature,
    bytes,
  };
  if (header.certificate !== undefined) document.certificate = header.certificate;
  return document;
}

interface CheckedHeader {
  kind: DocumentKind;
  kid: string;
  certificate?: string;
}

function checkHeader(
  header: Record<string, unknown>,
  expected: DocumentKind | undefined,
): CheckedHeader {
  if (!JWS_ALGORITHMS.includes(header.alg as (typeof JWS_ALGORITHMS)[number])) {
    throw new MalformedError(
      'unsupported_alg',
      `JWT alg ${JSON.stringify(header.alg ?? null)} is not EdDSA`,
    );
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name)) {
      throw new MalformedError('forbidden_header', `JWT header "${name}" is not accepted`);
    }
  }
  if (Object.hasOwn(header, 'crit')) {
    throw new MalformedError(
      'unknown_crit',
      'JWT header lists critical extensions that are not understood',
    );
  }
  if (!isBase64urlOfLength(header.kid, 32)) {
    throw new MalformedError(
      'bad_kid',
      'JWT kid must be the base64url SHA-256 thumbprint of the key',
    );
  }
  const kind = typeof header.typ === 'string' ? kindFromJwtType(header.typ) : undefined;
  if (kind === undefined || (expected !== undefined && kind !== expected)) {
    throw new MalformedError(
      'wrong_type',
      `JWT typ ${JSON.stringify(header.typ ?? null)} is not ${expected ? JWT_TYPE[expected] : 'a licensekit document'}`,
    );
  }
  const checked: CheckedHeader = { kind, kid: header.kid };
  if (Object.hasOwn(header, JWT_CERTIFICATE_HEADER)) {
    if (kind !== 'license' || typeof header[JWT_CERTIFICATE_HEADER] !== 'string') {
      throw new MalformedError(
        'bad_certificate',
        'only a license carries an issuer certificate, as text',
      );
    }
    checked.certificate = header[JWT_CERTIFICATE_HEADER] as string;
  }
  return checked;
}

export interface PreparedDocument {
  /** The bytes to sign. */
  signingInput: Uint8Array;
  /** Joins the signature to the prepared document and returns the token text. */
  finish(signature: Uint8Array): string;
}

export interface DocumentHeader {
  kind: DocumentKind;
  kid: string;
  certificate?: string | Uint8Array;
  /**
   * CWT licenses only (0.3): leave the kid out of a token without certificate; the verifier
   * tries the keys it trusts directly. A JWS always names its key.
   */
  omitKid?: boolean;
}

// The encoded header is the same for every document a key signs with one certificate.
// Found by === on its parts (see cose-encode.ts): no per-call hashing of the certificate.
const encodedHeaders: {
  kind: string;
  kid: string;
  certificate: string | undefined;
  encoded: string;
}[] = [];

function encodedHeader(header: DocumentHeader): string {
  const cacheable = typeof header.certificate !== 'object';
  if (cacheable) {
    for (const known of encodedHeaders) {
      if (
        known.certificate === header.certificate &&
        known.kid === header.kid &&
        known.kind === header.kind
      ) {
        return known.encoded;
      }
    }
  }
  const certificate =
    typeof header.certificate === 'string' || header.certificate === undefined
      ? header.certificate
      : base64urlEncode(header.certificate);
  const protectedHeader: Record<string, unknown> = {
    alg: JWS_ALGORITHMS[0],
    typ: JWT_TYPE[header.kind],
    kid: header.kid,
  };
  if (certificate !== undefined) protectedHeader[JWT_CERTIFICATE_HEADER] = certificate;
  const encoded = base64urlEncode(utf8Encode(JSON.stringify(protectedHeader)));
  if (cacheable) {
    if (encodedHeaders.length >= 16) encodedHeaders.shift();
    const { kind, kid } = header;
    encodedHeaders.push({ kind, kid, certificate: certificate, encoded });
  }
  return encoded;
}

/** Builds the JWS signing input for a payload; the issuer signs and calls finish(). */
export function prepareJws(
  header: DocumentHeader,
  payload: Record<string, unknown>,
): PreparedDocument {
  const signingInput = `${encodedHeader(header)}.${base64urlEncode(utf8Encode(JSON.stringify(payload)))}`;
  return {
    signingInput: utf8Encode(signingInput),
    finish: (signature) => `${signingInput}.${base64urlEncode(signature)}`,
  };
}
