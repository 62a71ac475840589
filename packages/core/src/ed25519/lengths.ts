import { KeyError } from '../errors.js';

/**
 * Byte lengths fixed by RFC 8032 §5.1.5–5.1.6: a public key is the 32-byte encoding of the
 * point A, a signature is R (32 bytes) || S (32 bytes), and the secret key is a 32-byte seed.
 * Every backend checks them itself so that a wrong length gives the same verdict (false)
 * everywhere, instead of whatever error or truncation a runtime happens to apply.
 */
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const SEED_LENGTH = 32;

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
 * Rejects anything but a 32-byte seed. A 64-byte "expanded" key (seed || public key, as
 * libsodium stores it) is refused on purpose: accepting it would let a mismatched public half
 * slip through unnoticed.
 * @throws KeyError
 */
export function assertSeed(seed: unknown): asserts seed is Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new KeyError(`Ed25519 private key must be a ${SEED_LENGTH}-byte seed (RFC 8032 §5.1.5)`);
  }
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
