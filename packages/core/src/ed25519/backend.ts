/**
 * The Ed25519 backend contract. Three implementations give the same verdict on every
 * Wycheproof vector: node:crypto (Node), WebCrypto (browsers, Deno, Bun, Node) and
 * @noble/ed25519 with `zip215: false` (strict RFC 8032, for runtimes without WebCrypto
 * Ed25519).
 *
 * Keys are imported once into an opaque handle so that per-key work (JWK parsing, CryptoKey
 * creation: a quarter to a third of a verification with WebCrypto) is not repeated for every
 * token; the verifier caches handles per kid. At the crypto boundary `verify`
 * returns a boolean and never throws for bad input (wrong lengths, points off the curve,
 * S >= L): the caller decides what false means.
 */
export interface Ed25519PublicKey {
  readonly raw: Uint8Array;
}

export interface Ed25519PrivateKey {
  readonly publicKey: Uint8Array;
}

export interface Ed25519Backend {
  readonly name: 'node' | 'webcrypto' | 'noble';
  /**
   * Imports a 32-byte public key. Never throws: a key the runtime refuses (wrong length,
   * not a point) yields a handle whose every verification is false.
   */
  importPublicKey(raw: Uint8Array): Promise<Ed25519PublicKey>;
  /** Verifies a detached 64-byte signature. Never throws for malformed input. */
  verify(key: Ed25519PublicKey, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Imports a 32-byte private seed (RFC 8032 secret key). Throws KeyError when unusable. */
  importPrivateKey(seed: Uint8Array): Promise<Ed25519PrivateKey>;
  /** Signs deterministically (RFC 8032): the same key and message give the same bytes. */
  sign(key: Ed25519PrivateKey, message: Uint8Array): Promise<Uint8Array>;
}
