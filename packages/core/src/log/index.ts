/**
 * @licensekit/core/log: the issuance-log primitives (RFC 9162 tree, C2SP checkpoints and
 * signed notes, proofs). A subpath of their own, not re-exported by the root entry: a
 * browser bundle splits code by file, and a root entry that imports them puts every one a
 * lazily loaded verifier chunk uses into the chunk every page loads.
 */
export type { Checkpoint, CheckpointFields, OpenCheckpointOptions } from './checkpoint.js';
export {
  formatCheckpoint,
  MAX_CHECKPOINT_LENGTH,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
export { consistencyProof, verifyConsistency } from './consistency.js';
export type { LogEntry } from './entry.js';
export { LOG_ENTRY_TAG, logEntry, logEntryHash, parseLogEntry } from './entry.js';
export type { AppendResult, CompletedNode, Frontier } from './frontier.js';
export {
  appendLeaf,
  appendLeaves,
  EMPTY_FRONTIER,
  frontierAddresses,
  frontierRoot,
  loadFrontier,
} from './frontier.js';
export { inclusionProof, rootFromInclusionProof, verifyInclusion } from './inclusion.js';
export { MemoryTree } from './memory-tree.js';
export type { NodeAddress, TreeReader } from './merkle.js';
export {
  emptyTreeHash,
  HASH_LENGTH,
  leafHash,
  nodeHash,
  rangeHashes,
  treeHash,
} from './merkle.js';
export type { NoteSigningKey, OpenedNote, OpenNoteOptions } from './note.js';
export {
  MAX_NOTE_LENGTH,
  MAX_NOTE_SIGNATURES,
  openNote,
  signNote,
  verifyNote,
} from './note.js';
export type { NoteVerifierKey } from './note-keys.js';
export {
  formatVerifierKey,
  isNoteKeyName,
  noteKeyHash,
  noteVerifierKey,
  parseVerifierKey,
} from './note-keys.js';
export type { LogProofBundle, VerifyLogOptions } from './proof-bundle.js';
export {
  createProofBundle,
  parseProofBundle,
  verifyCheckpointConsistency,
  verifyLoggedEntry,
} from './proof-bundle.js';
