/**
 * PKCS #8 wrapping of a raw Ed25519 seed (RFC 8410 §7), the only private-key form both
 * node:crypto and WebCrypto import without also asking for the public key (JWK needs `x`).
 * For id-Ed25519 (OID 1.3.101.112) the structure is a fixed header followed by the seed, so
 * wrapping is a concatenation: no ASN.1 encoder, and no input can change the header.
 */

/** OneAsymmetricKey v0 (RFC 8410 §7, RFC 5958 §2). */
// biome-ignore format: one DER element per line
const PKCS8_HEADER = Uint8Array.of(
  0x30, 0x2e, // SEQUENCE, 46 bytes
  0x02, 0x01, 0x00, // INTEGER version 0 (v1): no public key attached
  0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, // AlgorithmIdentifier { id-Ed25519 }
  0x04, 0x22, // privateKey OCTET STRING, 34 bytes, wrapping
  0x04, 0x20, // CurvePrivateKey OCTET STRING, 32 bytes: the seed follows
);

/** DER PKCS #8 PrivateKeyInfo for a 32-byte seed. The caller checks the length and wipes it. */
export function pkcs8FromSeed(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_HEADER.length + seed.length);
  der.set(PKCS8_HEADER);
  der.set(seed, PKCS8_HEADER.length);
  return der;
}
