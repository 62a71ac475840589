import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { cborTag, encodeCbor } from '../encoding/cbor-encode.js';
import { CERTIFICATE_HEADER, COSE_SIGN1_TAG, HEADER, sigStructure } from './cose.js';
import type { DocumentHeader, PreparedDocument } from './jws.js';
import { COSE_ALGORITHMS, COSE_TYPE } from './kinds.js';

/**
 * Builds a tagged COSE_Sign1 (the issuing side; it uses cbor-x and is never imported by
 * the verifier). Everything is in the protected header so the signature covers it; the
 * unprotected header is empty. The text form is base64url of the COSE bytes.
 */
export function prepareCose(
  header: DocumentHeader,
  payload: Map<number, CborEncodable>,
): PreparedDocument {
  const protectedHeader = new Map<number, CborEncodable>([
    [HEADER.alg, COSE_ALGORITHMS[0]],
    [HEADER.kid, base64urlDecode(header.kid, 'kid')],
    [HEADER.typ, COSE_TYPE[header.kind]],
  ]);
  if (header.certificate !== undefined) {
    // A CWT certificate is embedded as its bytes; a JWT certificate as its text.
    protectedHeader.set(
      CERTIFICATE_HEADER,
      typeof header.certificate === 'string' && !header.certificate.includes('.')
        ? base64urlDecode(header.certificate, 'certificate')
        : header.certificate,
    );
  }
  const protectedBytes = encodeCbor(protectedHeader);
  const payloadBytes = encodeCbor(payload);
  return {
    signingInput: sigStructure(protectedBytes, payloadBytes),
    finish: (signature) =>
      base64urlEncode(
        encodeCbor(cborTag(COSE_SIGN1_TAG, [protectedBytes, new Map(), payloadBytes, signature])),
      ),
  };
}
