import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { encodeCbor } from '../encoding/cbor-encode.js';
import { CERTIFICATE_HEADER, COSE_SIGN1_TAG, cborHead, HEADER, sigStructure } from './cose.js';
import type { DocumentHeader, PreparedDocument } from './jws.js';
import { COSE_ALGORITHMS, COSE_TYPE } from './kinds.js';

// The protected header is the same for every document a key signs with one certificate:
// encode it once (a store signs thousands of tokens with the same header).
const headers = new Map<string, Uint8Array>();

function protectedHeaderBytes(header: DocumentHeader): Uint8Array {
  const key =
    typeof header.certificate === 'string' || header.certificate === undefined
      ? `${header.kind} ${header.kid} ${header.certificate ?? ''}`
      : undefined;
  const known = key === undefined ? undefined : headers.get(key);
  if (known) return known;
  const map = new Map<number, CborEncodable>([
    [HEADER.alg, COSE_ALGORITHMS[0]],
    [HEADER.kid, base64urlDecode(header.kid, 'kid')],
    [HEADER.typ, COSE_TYPE[header.kind]],
  ]);
  if (header.certificate !== undefined) {
    // A CWT certificate is embedded as its bytes; a JWT certificate as its text.
    map.set(
      CERTIFICATE_HEADER,
      typeof header.certificate === 'string' && !header.certificate.includes('.')
        ? base64urlDecode(header.certificate, 'certificate')
        : header.certificate,
    );
  }
  const bytes = encodeCbor(map);
  if (key !== undefined) {
    if (headers.size >= 16) headers.delete(headers.keys().next().value as string);
    headers.set(key, bytes);
  }
  return bytes;
}

/**
 * Builds a tagged COSE_Sign1 (the issuing side; it uses cbor-x and is never imported by
 * the verifier). Everything is in the protected header so the signature covers it; the
 * unprotected header is empty. The text form is base64url of the COSE bytes.
 */
export function prepareCose(
  header: DocumentHeader,
  payload: Map<number, CborEncodable>,
): PreparedDocument {
  const protectedBytes = protectedHeaderBytes(header);
  const payloadBytes = encodeCbor(payload);
  return {
    signingInput: sigStructure(protectedBytes, payloadBytes),
    // 18([protected, {}, payload, signature]), written directly: the parts are encoded.
    finish: (signature) =>
      base64urlEncode(
        concat([
          Uint8Array.of(0xc0 | COSE_SIGN1_TAG, 0x84),
          cborHead(2, protectedBytes.length),
          protectedBytes,
          Uint8Array.of(0xa0),
          cborHead(2, payloadBytes.length),
          payloadBytes,
          cborHead(2, signature.length),
          signature,
        ]),
      ),
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
