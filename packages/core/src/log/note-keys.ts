/**
 * Keys of C2SP signed notes (c2sp.org/signed-note): a key is known by its name and a
 * 4-byte key ID, and configured as a verifier key string `<name>+<hex key ID>+<base64 of
 * type byte ‖ public key>`, the format of golang.org/x/mod/sumdb/note, so the same string
 * works in Go tooling, witnesses and here. Only Ed25519 (type 0x01) is supported.
 */
import { sha256 } from '#ed25519-platform';
import { PUBLIC_KEY_LENGTH } from '../ed25519/lengths.js';
import { copyBytes } from '../encoding/bytes.js';
import { utf8Encode } from '../encoding/utf8.js';
import { KeyError } from '../errors.js';
import { base64Decode, base64Encode } from './base64.js';

/** The signature type identifier of Ed25519 in c2sp.org/signed-note. */
export const NOTE_ED25519_TYPE = 0x01;

/** A trusted note key, as `parseVerifierKey` or `noteVerifierKey` make it. */
export interface NoteVerifierKey {
  readonly name: string;
  /** The key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[0:4], as a big-endian uint32. */
  readonly keyHash: number;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

// Unicode spaces (\s and the Z categories), '+' (the key string separator), controls and
// unpaired surrogates (no UTF-8 form).
const FORBIDDEN_IN_NAME = /[\s\p{Z}\p{Cc}\p{Cs}+]/u;

/** True for a valid key name: non-empty, no Unicode space, no '+', no control character. */
export function isNoteKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !FORBIDDEN_IN_NAME.test(name);
}

/**
 * The key ID of an Ed25519 note key: the first four bytes, big-endian, of
 * SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key) (c2sp.org/signed-note, "Ed25519
 * signatures"). It only selects a key; the signature is what proves anything.
 */
export async function noteKeyHash(name: string, publicKey: Uint8Array): Promise<number> {
  const nameBytes = utf8Encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = NOTE_ED25519_TYPE;
  input.set(publicKey, nameBytes.length + 2);
  const digest = await sha256(input);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/**
 * The verifier key of an Ed25519 public key under `name`.
 * @throws KeyError for an invalid name or a public key that is not 32 bytes
 * @example
 * const key = await noteVerifierKey('store.example/licensekit/log', privateKey.publicKey);
 * formatVerifierKey(key); // 'store.example/licensekit/log+1a2b3c4d+Af…'
 */
export async function noteVerifierKey(
  name: string,
  publicKey: Uint8Array,
): Promise<NoteVerifierKey> {
  if (!isNoteKeyName(name)) {
    throw new KeyError('a note key name is non-empty, without spaces, "+" or control characters');
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new KeyError(`a note key is a ${PUBLIC_KEY_LENGTH}-byte Ed25519 public key`);
  }
  const copy = copyBytes(publicKey);
  return Object.freeze({ name, keyHash: await noteKeyHash(name, copy), publicKey: copy });
}

/** The key ID as eight lowercase hex digits, as key strings write it. */
export function keyHashHex(keyHash: number): string {
  return keyHash.toString(16).padStart(8, '0');
}

/** `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`, the configuration form of a key. */
export function formatVerifierKey(key: NoteVerifierKey): string {
  const typed = new Uint8Array(1 + key.publicKey.length);
  typed[0] = NOTE_ED25519_TYPE;
  typed.set(key.publicKey, 1);
  return `${key.name}+${keyHashHex(key.keyHash)}+${base64Encode(typed)}`;
}

/**
 * Reads a verifier key string and checks that its key ID is the one its name and key give,
 * so a key pasted under the wrong name, or with a typo, is refused at configuration time.
 * @throws KeyError
 * @example
 * const key = await parseVerifierKey(process.env.LICENSEKIT_LOG_KEY);
 */
export async function parseVerifierKey(text: string): Promise<NoteVerifierKey> {
  if (typeof text !== 'string') throw new KeyError('a note verifier key is a string');
  // The base64 part may itself contain '+': split at the first two only.
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0) {
    throw new KeyError('a note verifier key is <name>+<key ID>+<base64 key>');
  }
  const name = text.slice(0, first);
  const hex = text.slice(first + 1, second);
  const typed = base64Decode(text.slice(second + 1));
  if (!isNoteKeyName(name)) throw new KeyError('the note verifier key has an invalid name');
  if (!/^[0-9a-f]{8}$/.test(hex)) {
    throw new KeyError('the note verifier key ID is not eight lowercase hex digits');
  }
  if (typed === undefined || typed.length !== 1 + PUBLIC_KEY_LENGTH) {
    throw new KeyError('the note verifier key is not base64 of a type byte and 32 bytes');
  }
  if (typed[0] !== NOTE_ED25519_TYPE) {
    throw new KeyError(`the note verifier key has type ${typed[0]}, not Ed25519 (1)`);
  }
  const key = await noteVerifierKey(name, typed.subarray(1));
  if (keyHashHex(key.keyHash) !== hex) {
    throw new KeyError('the note verifier key ID does not match its name and public key');
  }
  return key;
}
