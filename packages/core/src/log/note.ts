/**
 * C2SP signed notes (c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line,
 * then one line per signature, `— <key name> <base64(key ID ‖ signature)>`. Checkpoints
 * are notes; so the log's checkpoints can be cosigned by witnesses and read by Go's
 * sumdb/note and every other implementation of the format.
 */
import { defaultBackend, defaultVerifyBackend } from '#ed25519-platform';
import type { Ed25519Backend, Ed25519PrivateKey, Ed25519PublicKey } from '../ed25519/backend.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../ed25519/lengths.js';
import { utf8Decode, utf8Encode } from '../encoding/utf8.js';
import { ConfigError, LogProofError, MalformedError } from '../errors.js';
import { base64Decode, base64Encode } from './base64.js';
import { isNoteKeyName, type NoteVerifierKey, noteKeyHash } from './note-keys.js';

/**
 * Size cap of a whole note in UTF-8 bytes, checked before anything else. A checkpoint with
 * the 16 signatures C2SP asks verifiers to accept is well under 2 KiB.
 */
export const MAX_NOTE_LENGTH = 16 * 1024;

/** At most this many signature lines (C2SP: at least 16 must be accepted). */
export const MAX_NOTE_SIGNATURES = 64;

const SIGNATURE_PREFIX = '\u2014 '; // em dash, space
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** An ASCII control other than newline; CR is one, so CRLF line ends are refused. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

/** A key that signs notes: a name and an Ed25519 private key imported by a core backend. */
export interface NoteSigningKey {
  readonly name: string;
  readonly privateKey: Ed25519PrivateKey;
  /** The backend that imported `privateKey` (handles do not cross backends); default: this platform's. */
  readonly backend?: Ed25519Backend;
}

/** A note whose signatures were checked. */
export interface OpenedNote {
  /** The note text, final newline included: what the signatures cover. */
  readonly text: string;
  /** The trusted keys whose signatures verified (at least one). */
  readonly verifiedBy: readonly NoteVerifierKey[];
}

export interface OpenNoteOptions {
  /** The Ed25519 backend that verifies; default `defaultBackend()`. */
  readonly backend?: Ed25519Backend;
}

/** One parsed signature line. */
interface SignatureLine {
  readonly name: string;
  readonly keyHash: number;
  readonly signature: Uint8Array;
}

/** The text rules of c2sp.org/signed-note, for a text about to be signed. */
function assertSignableText(text: unknown): asserts text is string {
  if (typeof text !== 'string' || !text.endsWith('\n')) {
    throw new ConfigError('a note text is a string ending in a newline');
  }
  if (UNPAIRED_SURROGATE.test(text) || hasControlCharacter(text)) {
    throw new ConfigError('a note text is valid UTF-8 with no control character but newline');
  }
}

/**
 * Signs a note text with one or more keys and returns the signed note. Ed25519 is
 * deterministic, so the same text and keys always give the same note.
 * @throws ConfigError for a text or key name the format does not allow, KeyError from the backend
 * @example
 * const note = await signNote(formatCheckpoint(checkpoint), { name: origin, privateKey });
 */
export async function signNote(
  text: string,
  keys: NoteSigningKey | readonly NoteSigningKey[],
): Promise<string> {
  assertSignableText(text);
  const signers: readonly NoteSigningKey[] = Array.isArray(keys) ? keys : [keys as NoteSigningKey];
  if (signers.length === 0 || signers.length > MAX_NOTE_SIGNATURES) {
    throw new ConfigError(`a note is signed by 1 to ${MAX_NOTE_SIGNATURES} keys`);
  }
  const message = utf8Encode(text);
  const lines = await Promise.all(
    signers.map(async ({ name, privateKey, backend }) => {
      if (!isNoteKeyName(name)) {
        throw new ConfigError('a note key name is non-empty, without spaces, "+" or controls');
      }
      const publicKey = privateKey?.publicKey;
      if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
        throw new ConfigError('a note signing key is an imported Ed25519 private key');
      }
      const signer = backend ?? (await defaultBackend());
      const signature = await signer.sign(privateKey, message);
      const keyed = new Uint8Array(4 + signature.length);
      new DataView(keyed.buffer).setUint32(0, await noteKeyHash(name, publicKey));
      keyed.set(signature, 4);
      return `${SIGNATURE_PREFIX}${name} ${base64Encode(keyed)}\n`;
    }),
  );
  const note = `${text}\n${lines.join('')}`;
  if (utf8Encode(note).length > MAX_NOTE_LENGTH) {
    throw new ConfigError(`the signed note is over ${MAX_NOTE_LENGTH} bytes`);
  }
  return note;
}

/** The note as text, within the size cap, with only the characters the format allows. */
function noteText(note: string | Uint8Array): string {
  let text: string;
  if (note instanceof Uint8Array) {
    if (note.length > MAX_NOTE_LENGTH) throw tooLarge();
    text = utf8Decode(note, 'signed note');
  } else if (typeof note === 'string') {
    // A UTF-16 length never exceeds the UTF-8 length: the cheap test first.
    if (note.length > MAX_NOTE_LENGTH) throw tooLarge();
    if (UNPAIRED_SURROGATE.test(note)) {
      throw new MalformedError('bad_encoding', 'signed note has an unpaired surrogate');
    }
    if (utf8Encode(note).length > MAX_NOTE_LENGTH) throw tooLarge();
    text = note;
  } else {
    throw new MalformedError('bad_note', 'a signed note is a string or bytes');
  }
  if (hasControlCharacter(text)) {
    throw new MalformedError('bad_note', 'signed note has a control character other than newline');
  }
  return text;
}

function tooLarge(): MalformedError {
  return new MalformedError('too_large', `signed note is over ${MAX_NOTE_LENGTH} bytes`);
}

function badNote(message: string): MalformedError {
  return new MalformedError('bad_note', `signed note: ${message}`);
}

/** Splits a note at its last blank line and parses every signature line (none verified). */
function splitNote(note: string): { text: string; signatures: SignatureLine[] } {
  const blank = note.lastIndexOf('\n\n');
  if (blank < 0) throw badNote('no blank line before the signatures');
  const block = note.slice(blank + 2);
  if (block.length === 0 || !block.endsWith('\n')) {
    throw badNote('the signature block is empty or does not end in a newline');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw badNote(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  const signatures = lines.map((line, i): SignatureLine => {
    const space = line.indexOf(' ', SIGNATURE_PREFIX.length);
    const name = line.slice(SIGNATURE_PREFIX.length, space);
    const keyed = space < 0 ? undefined : base64Decode(line.slice(space + 1));
    if (
      !line.startsWith(SIGNATURE_PREFIX) ||
      !isNoteKeyName(name) ||
      keyed === undefined ||
      keyed.length < 5
    ) {
      throw badNote(`signature line ${i + 1} is not "— <name> <base64 key ID and signature>"`);
    }
    const keyHash = new DataView(keyed.buffer, keyed.byteOffset, 4).getUint32(0);
    return { name, keyHash, signature: keyed.subarray(4) };
  });
  return { text: note.slice(0, blank + 1), signatures };
}

function assertTrustedKeys(keys: readonly NoteVerifierKey[]): void {
  const valid =
    Array.isArray(keys) &&
    keys.every(
      (key) =>
        isNoteKeyName(key?.name) &&
        Number.isInteger(key.keyHash) &&
        key.keyHash >= 0 &&
        key.keyHash <= 0xffffffff &&
        key.publicKey instanceof Uint8Array &&
        key.publicKey.length === PUBLIC_KEY_LENGTH,
    );
  if (!valid) {
    throw new ConfigError('trusted note keys come from parseVerifierKey or noteVerifierKey');
  }
}

// Imported public keys per backend, so verifying many notes imports each key once.
const imported = new WeakMap<Ed25519Backend, WeakMap<NoteVerifierKey, Promise<Ed25519PublicKey>>>();

function importKey(backend: Ed25519Backend, key: NoteVerifierKey): Promise<Ed25519PublicKey> {
  let keys = imported.get(backend);
  if (keys === undefined) {
    keys = new WeakMap();
    imported.set(backend, keys);
  }
  let handle = keys.get(key);
  if (handle === undefined) {
    handle = backend.importPublicKey(key.publicKey);
    keys.set(key, handle);
  }
  return handle;
}

/**
 * Verifies a signed note against trusted keys and returns its text. Signatures by unknown
 * keys (another name or key ID) are ignored, as the format requires, so witnesses can
 * cosign and a log can rotate keys; a known key's signature that fails rejects the note.
 * @throws MalformedError ('too_large', 'bad_encoding', 'bad_note'),
 *   LogProofError ('invalid_signature', 'no_trusted_signature'), ConfigError for bad keys
 * @example
 * const { text } = await openNote(note, [await parseVerifierKey(logKey)]);
 */
export async function openNote(
  note: string | Uint8Array,
  trustedKeys: readonly NoteVerifierKey[],
  options: OpenNoteOptions = {},
): Promise<OpenedNote> {
  assertTrustedKeys(trustedKeys);
  const { text, signatures } = splitNote(noteText(note));
  const message = utf8Encode(text);
  const backend = options.backend ?? (await defaultVerifyBackend());
  const verifiedBy: NoteVerifierKey[] = [];
  for (const { name, keyHash, signature } of signatures) {
    const key = trustedKeys.find((k) => k.name === name && k.keyHash === keyHash);
    if (key === undefined || verifiedBy.includes(key)) continue;
    const valid =
      signature.length === SIGNATURE_LENGTH &&
      (await backend.verify(await importKey(backend, key), message, signature));
    if (!valid) {
      throw new LogProofError('invalid_signature', `the signature of trusted key ${name} fails`);
    }
    verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) {
    throw new LogProofError('no_trusted_signature', 'the note has no signature by a trusted key');
  }
  return { text, verifiedBy };
}

/**
 * `openNote` as a boolean: true when a trusted key signed the note and no trusted
 * signature fails. Never throws for a bad note; still throws ConfigError for bad keys.
 */
export async function verifyNote(
  note: string | Uint8Array,
  trustedKeys: readonly NoteVerifierKey[],
  options: OpenNoteOptions = {},
): Promise<boolean> {
  try {
    await openNote(note, trustedKeys, options);
    return true;
  } catch (error) {
    if (error instanceof MalformedError || error instanceof LogProofError) return false;
    throw error;
  }
}
