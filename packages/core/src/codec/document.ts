import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import type { JsonValue } from '../encoding/json.js';
import type { DocumentKind, TokenFormat } from './kinds.js';

/**
 * A signed document after strict decoding and header checks, before its signature is
 * verified. Both codecs produce this shape; everything after decoding is format-blind.
 * A CWT's `signature` and the byte strings in its `payload` are views of `bytes` (the
 * caller's array when bytes were passed in): copy what you keep.
 */
export interface DecodedDocument {
  format: TokenFormat;
  kind: DocumentKind;
  /** RFC 7638 thumbprint of the signing key, base64url: a lookup key only. */
  kid: string;
  /** The issuer certificate carried in the protected header, as it was embedded. */
  certificate?: string | Uint8Array;
  /** JSON payload (JWT) or CBOR payload map (CWT); the claim readers turn it into a model. */
  payload: Record<string, JsonValue> | Map<CborKey, CborValue>;
  /** The exact bytes the signature covers (JWS signing input or COSE Sig_structure). */
  signingInput: Uint8Array;
  signature: Uint8Array;
  /**
   * The token's own bytes, hashed for lineage (`prev`) and replay defense: the ASCII of a
   * JWT's compact form, the raw COSE bytes of a CWT.
   */
  bytes: Uint8Array;
}
