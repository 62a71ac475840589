/**
 * Byte lengths fixed by RFC 8032 §5.1.5–5.1.6: a public key is the 32-byte encoding of the
 * point A, a signature is R (32 bytes) || S (32 bytes) (the seed is in seed.ts, which only
 * signing code imports). Every backend checks them itself so that a wrong length gives the
 * same verdict (false) everywhere, instead of whatever error or truncation a runtime happens
 * to apply.
 */
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** True when a public key and a signature have the only lengths Ed25519 defines. */
export function hasEd25519Lengths(publicKey: unknown, signature: unknown): boolean {
  return (
    publicKey instanceof Uint8Array &&
    publicKey.length === PUBLIC_KEY_LENGTH &&
    signature instanceof Uint8Array &&
    signature.length === SIGNATURE_LENGTH
  );
}

/**
 * WebIDL `BufferSource` excludes views on a SharedArrayBuffer; copy those (rare) and pass
 * everything else through without a copy.
 */
export function asBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}
