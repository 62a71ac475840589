import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { encodeCbor } from '../encoding/cbor-encode.js';
import {
  CERTIFICATE_HEADER,
  COSE_SIGN1_TAG,
  HEADER,
  headLength,
  sigStructure,
  writeHead,
} from './cose.js';
import type { DocumentHeader, PreparedDocument } from './jws.js';
import { COSE_ALGORITHMS, COSE_CONTENT_FORMAT } from './kinds.js';

// The protected header is the same for every document a key signs with one certificate:
// encode it once (a store signs thousands of tokens with the same header). Found by
// comparing the parts with ===: a store passes the same certificate string every time, so
// that is a pointer comparison, where a map key would hash the whole certificate per call.
const headers: {
  kind: string;
  kid: string;
  certificate: string | undefined;
  omitKid: boolean;
  bytes: Uint8Array;
}[] = [];

function protectedHeaderBytes(header: DocumentHeader): Uint8Array {
  // Bytes are not cached: a caller may rewrite the same array with another certificate.
  const cacheable = typeof header.certificate !== 'object';
  const omitKid = header.omitKid === true;
  if (cacheable) {
    for (const known of headers) {
      if (
        known.certificate === header.certificate &&
        known.kid === header.kid &&
        known.kind === header.kind &&
        known.omitKid === omitKid
      ) {
        return known.bytes;
      }
    }
  }
  const map = new Map<number, CborEncodable>([
    [HEADER.alg, COSE_ALGORITHMS[0]],
    [HEADER.typ, COSE_CONTENT_FORMAT[header.kind]],
  ]);
  // With a certificate embedded, the key it certifies is the signing key: a kid would only
  // repeat its thumbprint (the decoder derives it, codec/certified-kid.ts). A bare license
  // may leave it out too (0.3, `omitKid`): its verifier tries the keys it trusts directly.
  if (header.certificate === undefined) {
    if (!omitKid || header.kind !== 'license') {
      map.set(HEADER.kid, base64urlDecode(header.kid, 'kid'));
    }
  } else {
    // A CWT certificate is embedded as its bytes; a JWT certificate as its text.
    map.set(
      CERTIFICATE_HEADER,
      typeof header.certificate === 'string' && !header.certificate.includes('.')
        ? base64urlDecode(header.certificate, 'certificate')
        : header.certificate,
    );
  }
  const bytes = encodeCbor(map);
  if (cacheable) {
    if (headers.length >= 16) headers.shift();
    const { kind, kid } = header;
    headers.push({
      kind,
      kid,
      certificate: header.certificate as string | undefined,
      omitKid,
      bytes,
    });
  }
  return bytes;
}

/**
 * Builds a tagged COSE_Sign1 (the issuing side; it uses the CBOR encoder, never imported by
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
    finish: (signature) => {
      // 18([protected, {}, payload, signature]), written directly: the parts are encoded.
      const out = new Uint8Array(
        2 +
          headLength(protectedBytes.length) +
          protectedBytes.length +
          1 +
          headLength(payloadBytes.length) +
          payloadBytes.length +
          headLength(signature.length) +
          signature.length,
      );
      out[0] = 0xc0 | COSE_SIGN1_TAG;
      out[1] = 0x84;
      let offset = writeHead(out, 2, 2, protectedBytes.length);
      out.set(protectedBytes, offset);
      offset += protectedBytes.length;
      out[offset++] = 0xa0; // the empty unprotected header
      offset = writeHead(out, offset, 2, payloadBytes.length);
      out.set(payloadBytes, offset);
      offset = writeHead(out, offset + payloadBytes.length, 2, signature.length);
      out.set(signature, offset);
      return base64urlEncode(out);
    },
  };
}
