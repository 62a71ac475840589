/**
 * Checkpoints (c2sp.org/tlog-checkpoint): the signed head of the log, a signed note whose
 * text is the origin, the tree size in decimal and the root hash in base64, one per line,
 * then optional extension lines.
 *
 *     store.example/licensekit/log
 *     8
 *     XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
 *
 *     — store.example/licensekit/log <base64 of key ID ‖ Ed25519 signature>
 *
 * Parsing is strict, as for tokens: one spelling per checkpoint, so two parties can never
 * read one signed text as two different tree heads.
 */
import type { Ed25519Backend } from '../ed25519/backend.js';
import { utf8Encode } from '../encoding/utf8.js';
import { ConfigError, LogProofError, MalformedError } from '../errors.js';
import { base64Decode, base64Encode } from './base64.js';
import { HASH_LENGTH, isHash, isTreeSize } from './merkle.js';
import { type NoteSigningKey, openNote, signNote } from './note.js';
import type { NoteVerifierKey } from './note-keys.js';

/** A log's signed tree head. */
export interface Checkpoint {
  /** The log's identity, e.g. `store.example/licensekit/log`; the key name should match it. */
  readonly origin: string;
  /** The number of leaves. */
  readonly size: number;
  /** The RFC 9162 root hash of those leaves. */
  readonly rootHash: Uint8Array;
  /** Opaque extra lines (C2SP: NOT RECOMMENDED; licensekit writes none). */
  readonly extensions: readonly string[];
}

export type CheckpointFields = Omit<Checkpoint, 'extensions'> & {
  readonly extensions?: readonly string[];
};

/** Size cap of a checkpoint text in UTF-8 bytes. */
export const MAX_CHECKPOINT_LENGTH = 4096;

// A line holds no control character (newline included) and no unpaired surrogate, and does
// not begin or end with whitespace: "5 " and "5" must not both be size 5.
const UNSAFE = /[\p{Cc}\p{Cs}]/u;
const EDGE_SPACE = /^[\s\p{Z}]|[\s\p{Z}]$/u;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function isCheckpointLine(line: string): boolean {
  return line.length > 0 && !UNSAFE.test(line) && !EDGE_SPACE.test(line);
}

/**
 * The checkpoint text (the note text to sign): origin, size, root hash, extension lines,
 * each ending in a newline.
 * @throws ConfigError for fields the format cannot carry
 * @example
 * formatCheckpoint({ origin: 'store.example/licensekit/log', size: 3, rootHash });
 */
export function formatCheckpoint(checkpoint: CheckpointFields): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (typeof origin !== 'string' || !isCheckpointLine(origin)) {
    throw new ConfigError('a checkpoint origin is one non-empty line without edge spaces');
  }
  if (!isTreeSize(size)) throw new ConfigError('a checkpoint size is a non-negative safe integer');
  if (!isHash(rootHash)) throw new ConfigError(`a checkpoint root hash is ${HASH_LENGTH} bytes`);
  if (!extensions.every((line) => typeof line === 'string' && isCheckpointLine(line))) {
    throw new ConfigError('a checkpoint extension is one non-empty line without edge spaces');
  }
  const text = [origin, String(size), base64Encode(rootHash), ...extensions].join('\n') + '\n';
  if (utf8Encode(text).length > MAX_CHECKPOINT_LENGTH) {
    throw new ConfigError(`a checkpoint is at most ${MAX_CHECKPOINT_LENGTH} bytes`);
  }
  return text;
}

function badCheckpoint(message: string): MalformedError {
  return new MalformedError('bad_checkpoint', `checkpoint: ${message}`);
}

/**
 * Reads a checkpoint text (the text of a note, without signatures). It does not check any
 * signature: use `openCheckpoint` for a signed note.
 * @throws MalformedError ('too_large', 'bad_checkpoint')
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw badCheckpoint('not a string');
  if (text.length > MAX_CHECKPOINT_LENGTH || utf8Encode(text).length > MAX_CHECKPOINT_LENGTH) {
    throw new MalformedError('too_large', `checkpoint is over ${MAX_CHECKPOINT_LENGTH} bytes`);
  }
  if (!text.endsWith('\n')) throw badCheckpoint('the text does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || size === undefined || root === undefined) {
    throw badCheckpoint('fewer than three lines (origin, size, root hash)');
  }
  if (!lines.every(isCheckpointLine)) {
    throw badCheckpoint('a line is empty, has a control character or begins or ends with a space');
  }
  if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) {
    throw badCheckpoint('the size is not a decimal safe integer without leading zeros');
  }
  const rootHash = base64Decode(root);
  if (rootHash === undefined || rootHash.length !== HASH_LENGTH) {
    throw badCheckpoint(`the root hash is not padded base64 of ${HASH_LENGTH} bytes`);
  }
  return { origin, size: Number(size), rootHash, extensions };
}

/**
 * Formats and signs a checkpoint: the signed note a log publishes.
 * @example
 * const note = await signCheckpoint({ origin, size, rootHash }, { name: origin, privateKey });
 */
export async function signCheckpoint(
  checkpoint: CheckpointFields,
  keys: NoteSigningKey | readonly NoteSigningKey[],
): Promise<string> {
  return signNote(formatCheckpoint(checkpoint), keys);
}

export interface OpenCheckpointOptions {
  /** The Ed25519 backend that verifies; default `defaultBackend()`. */
  readonly backend?: Ed25519Backend;
  /**
   * The origin the checkpoint must carry. Without it, the origin must be the name of a
   * trusted key that signed the checkpoint (C2SP: the log's key name should match it), so
   * a key trusted for one log never vouches for another log's head.
   */
  readonly origin?: string;
}

/**
 * Verifies a signed checkpoint and returns the tree head it signs.
 * @throws MalformedError ('too_large', 'bad_encoding', 'bad_note', 'bad_checkpoint'),
 *   LogProofError ('invalid_signature', 'no_trusted_signature', 'wrong_origin')
 * @example
 * const head = await openCheckpoint(note, [await parseVerifierKey(logKey)]);
 */
export async function openCheckpoint(
  note: string | Uint8Array,
  trustedKeys: readonly NoteVerifierKey[],
  options: OpenCheckpointOptions = {},
): Promise<Checkpoint> {
  const { text, verifiedBy } = await openNote(
    note,
    trustedKeys,
    options.backend === undefined ? {} : { backend: options.backend },
  );
  const checkpoint = parseCheckpoint(text);
  const expected = options.origin;
  const acceptable =
    expected === undefined
      ? verifiedBy.some((key) => key.name === checkpoint.origin)
      : checkpoint.origin === expected;
  if (!acceptable) {
    throw new LogProofError(
      'wrong_origin',
      `the checkpoint of ${JSON.stringify(checkpoint.origin)} is not signed for that origin`,
    );
  }
  return checkpoint;
}
