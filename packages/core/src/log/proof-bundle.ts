/**
 * The proof a client keeps beside a document, offline: where the document sits in the log
 * and the signed checkpoint whose tree contains it. JSON-friendly, so it can travel with a
 * license file or in an HTTP response.
 *
 *     { "index": 41, "treeSize": 57, "inclusion": ["base64", …], "checkpoint": "<note>" }
 */
import type { DocumentKind } from '../codec/kinds.js';
import type { Ed25519Backend } from '../ed25519/backend.js';
import { ConfigError, LogProofError, MalformedError } from '../errors.js';
import { base64Decode, base64Encode } from './base64.js';
import { type Checkpoint, openCheckpoint } from './checkpoint.js';
import { verifyConsistency } from './consistency.js';
import { logEntryHash } from './entry.js';
import { verifyInclusion } from './inclusion.js';
import { HASH_LENGTH, isHash, isTreeSize } from './merkle.js';
import { MAX_NOTE_LENGTH } from './note.js';
import { type NoteVerifierKey, parseVerifierKey } from './note-keys.js';

export interface LogProofBundle {
  /** The document's leaf index. */
  readonly index: number;
  /** The size of the tree the checkpoint signs. */
  readonly treeSize: number;
  /** The inclusion proof (RFC 9162 §2.1.3), leaf first, each hash in padded base64. */
  readonly inclusion: readonly string[];
  /** The signed checkpoint (c2sp.org/tlog-checkpoint) of that tree. */
  readonly checkpoint: string;
}

/** A proof path has at most one hash per level; a safe-integer tree has fewer than 64. */
const MAX_PROOF_HASHES = 64;
const BUNDLE_MEMBERS = ['checkpoint', 'inclusion', 'index', 'treeSize'];

/**
 * Assembles a bundle (on the log's side) from an inclusion proof and the signed checkpoint
 * of the same tree size.
 * @throws ConfigError for an index outside the tree or a proof that is not hashes
 */
export function createProofBundle(
  index: number,
  treeSize: number,
  inclusion: readonly Uint8Array[],
  checkpoint: string,
): LogProofBundle {
  if (!isTreeSize(treeSize) || !isTreeSize(index) || index >= treeSize) {
    throw new ConfigError(`leaf ${index} is not in a tree of ${treeSize} leaves`);
  }
  if (inclusion.length > MAX_PROOF_HASHES || !inclusion.every(isHash)) {
    throw new ConfigError('an inclusion proof is a list of 32-byte hashes');
  }
  return { index, treeSize, inclusion: inclusion.map(base64Encode), checkpoint };
}

function badProof(message: string): MalformedError {
  return new MalformedError('bad_proof', `log proof bundle: ${message}`);
}

/**
 * Reads a bundle from untrusted JSON-shaped input, strictly: exactly the four members,
 * integers, canonical base64 hashes. The checkpoint's signature is not checked here.
 * @throws MalformedError('bad_proof')
 */
export function parseProofBundle(value: unknown): LogProofBundle {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badProof('not an object');
  }
  const bundle = value as Record<string, unknown>;
  const members = Object.keys(bundle).sort();
  if (members.join() !== BUNDLE_MEMBERS.join()) {
    throw badProof(`the members are not exactly ${BUNDLE_MEMBERS.join(', ')}`);
  }
  const { index, treeSize, inclusion, checkpoint } = bundle;
  if (!isTreeSize(treeSize) || !isTreeSize(index) || index >= treeSize) {
    throw badProof('index and treeSize are not integers with index < treeSize');
  }
  if (
    !Array.isArray(inclusion) ||
    inclusion.length > MAX_PROOF_HASHES ||
    !inclusion.every(
      (hash) => typeof hash === 'string' && base64Decode(hash)?.length === HASH_LENGTH,
    )
  ) {
    throw badProof(`inclusion is not a list of padded base64 ${HASH_LENGTH}-byte hashes`);
  }
  if (typeof checkpoint !== 'string' || checkpoint.length > MAX_NOTE_LENGTH) {
    throw badProof('checkpoint is not a signed note');
  }
  return { index, treeSize, inclusion: [...inclusion] as string[], checkpoint };
}

export interface VerifyLogOptions {
  /** The Ed25519 backend that verifies; default `defaultBackend()`. */
  readonly backend?: Ed25519Backend;
  /** The origin the checkpoint must carry; default: the name of the key that signed it. */
  readonly origin?: string;
}

async function trustedKeysOf(
  keys: readonly (NoteVerifierKey | string)[],
): Promise<NoteVerifierKey[]> {
  if (!Array.isArray(keys)) throw new ConfigError('trusted log keys are a list');
  return Promise.all(keys.map((key) => (typeof key === 'string' ? parseVerifierKey(key) : key)));
}

/**
 * Checks that a document is in the log: the bundle's checkpoint is signed by a trusted log
 * key for its origin, and the inclusion proof leads from the document's leaf hash (see
 * `logEntryHash`) to that checkpoint's root at the bundle's index. The tree size is taken
 * from the signed checkpoint, since a root alone does not commit to a size.
 * @param document the document's own bytes (`DecodedDocument.bytes`)
 * @param trustedLogKeys verifier keys (`parseVerifierKey`) or their key strings
 * @throws MalformedError ('bad_proof', 'bad_note', 'bad_checkpoint', …), LogProofError
 *   ('no_trusted_signature', 'invalid_signature', 'wrong_origin', 'not_included'),
 *   ConfigError, KeyError for bad trusted keys
 * @example
 * await verifyLoggedEntry(decodeDocument(token).bytes, 'license', bundle, [logKey]);
 */
export async function verifyLoggedEntry(
  document: Uint8Array,
  kind: DocumentKind,
  bundle: LogProofBundle | unknown,
  trustedLogKeys: readonly (NoteVerifierKey | string)[],
  options: VerifyLogOptions = {},
): Promise<true> {
  const proof = parseProofBundle(bundle);
  const leaf = await logEntryHash(kind, document);
  const head = await openCheckpoint(proof.checkpoint, await trustedKeysOf(trustedLogKeys), options);
  if (head.size !== proof.treeSize) {
    throw badProof(`treeSize ${proof.treeSize} is not the checkpoint's size ${head.size}`);
  }
  const path = proof.inclusion.map((hash) => base64Decode(hash)!);
  if (!(await verifyInclusion(leaf, proof.index, head.size, path, head.rootHash))) {
    throw new LogProofError(
      'not_included',
      `the document is not leaf ${proof.index} of the ${head.origin} tree of ${head.size} leaves`,
    );
  }
  return true;
}

/**
 * Checks that `newer` extends `older` (two verified checkpoints of one log) with a
 * consistency proof: what a verifier or auditor does with each new checkpoint, so a log
 * that forks or rewrites its history is caught.
 * @throws LogProofError ('wrong_origin', 'inconsistent')
 */
export async function verifyCheckpointConsistency(
  older: Checkpoint,
  newer: Checkpoint,
  proof: readonly Uint8Array[],
): Promise<true> {
  if (older.origin !== newer.origin) {
    throw new LogProofError('wrong_origin', 'the checkpoints come from different logs');
  }
  if (!(await verifyConsistency(older.size, newer.size, older.rootHash, newer.rootHash, proof))) {
    throw new LogProofError(
      'inconsistent',
      `the tree of ${newer.size} leaves does not extend the tree of ${older.size} leaves`,
    );
  }
  return true;
}
