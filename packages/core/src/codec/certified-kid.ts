import { base64urlEncode } from '../encoding/base64url.js';
import { copyBytes } from '../encoding/bytes.js';
import type { CborValue } from '../encoding/cbor-decode.js';
import { sha256Sync } from '../encoding/sha256.js';
import { utf8Encode } from '../encoding/utf8.js';
import { LicenseKitError } from '../errors.js';
import type { DecodedDocument } from './document.js';
import type { DocumentKind } from './kinds.js';

/** A strict decoder of one entry (both formats, or CWT only). */
export type DecodeDocument = (
  input: string | Uint8Array,
  expected: DocumentKind,
) => DecodedDocument;

/**
 * The kid of a CWT license that embeds its issuer certificate and so carries no `kid` of
 * its own (32 bytes saved in every token): the RFC 7638 thumbprint of the key the
 * certificate certifies, derived here so that every reader of a `DecodedDocument` still
 * finds the signing key's kid in `kid`. It is a lookup key like any other kid: whether the
 * certificate is genuine is checked where trust is decided (the verifier's TrustStore).
 *
 * A certificate that cannot be read yields the empty kid, which names no key: the license
 * then fails where the certificate is checked, with the same verdict as before (an
 * untrusted key, `certificate_malformed`), not as a malformed license.
 */
export function certifiedKid(certificate: string | Uint8Array, decode: DecodeDocument): string {
  for (const entry of known) {
    if (entry.decode === decode && sameDocument(entry.certificate, certificate)) return entry.kid;
  }
  let kid = '';
  try {
    const x = certifiedKey(decode(certificate, 'certificate').payload);
    if (x !== undefined) {
      kid = base64urlEncode(sha256Sync(utf8Encode(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
    }
  } catch (error) {
    if (!(error instanceof LicenseKitError)) throw error;
  }
  // A store signs with one certificate at a time and rotates it rarely: a few entries do.
  if (known.length >= 4) known.shift();
  // A copy: the certificate may be a view of a token's bytes that its owner reuses.
  known.push({
    certificate: typeof certificate === 'string' ? certificate : copyBytes(certificate),
    decode,
    kid,
  });
  return kid;
}

const known: { certificate: string | Uint8Array; decode: DecodeDocument; kid: string }[] = [];

/** The certified key's `x` (base64url), from `cnf` of a JWT or a CWT certificate. */
function certifiedKey(payload: DecodedDocument['payload']): string | undefined {
  if (payload instanceof Map) {
    // RFC 8747: cnf (8) → COSE_Key (1) → x (−2).
    const cnf = payload.get(8);
    const key = cnf instanceof Map ? cnf.get(1) : undefined;
    const x: CborValue | undefined = key instanceof Map ? key.get(-2) : undefined;
    return x instanceof Uint8Array && x.length === 32 ? base64urlEncode(x) : undefined;
  }
  const cnf = payload.cnf;
  const jwk = isObject(cnf) ? cnf.jwk : undefined;
  const x = isObject(jwk) ? jwk.x : undefined;
  return typeof x === 'string' && x.length === 43 ? x : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Same text, or same bytes: a comparison of a few hundred bytes beats hashing them. */
export function sameDocument(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
