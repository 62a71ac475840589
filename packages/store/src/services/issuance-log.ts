import type { DocumentKind } from '@licensekit/core';
import { base64urlDecode, tokenHash, utf8Encode } from '@licensekit/core';
import type { LogProofBundle } from '@licensekit/core/log';
import {
  appendLeaf,
  consistencyProof,
  createProofBundle,
  frontierRoot,
  inclusionProof,
  LOG_ENTRY_TAG,
  leafHash,
  signCheckpoint,
} from '@licensekit/core/log';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { LogKey } from '../lib/log-key.js';
import type { CheckpointRecord } from '../repositories/issuance-log.js';
import { issuanceLogRepository } from '../repositories/issuance-log.js';

/**
 * The issuance log (DESIGN.md "Issuance log"): every document the store signs — license
 * tokens, issuer certificates, revocation lists — is appended, in the transaction that
 * records it, to an RFC 9162 Merkle tree; checkpoints sign its head; proofs show that a
 * document is in it and that the log only ever grew.
 */

/** The bytes a text document stands for: a JWS's ASCII, a CWT's COSE bytes. */
export function documentBytes(text: string): Uint8Array {
  return text.includes('.') ? utf8Encode(text) : base64urlDecode(text, 'document');
}

/** Where an appended document sits. */
export interface LoggedEntry {
  index: number;
  documentHash: string;
}

/**
 * Appends a document in `tx` (which must commit for the entry to exist). The head row is
 * locked until then: appenders on every instance line up, and an entry whose transaction
 * rolls back leaves no gap — the next appender takes its index. O(log n) hashes and two
 * statements, whatever the size of the log.
 */
export async function appendToLog(
  tx: Queryable,
  kind: DocumentKind,
  document: Uint8Array,
  now: Date,
  documentHash?: string,
): Promise<LoggedEntry> {
  const entry = new Uint8Array(1 + document.length);
  entry[0] = LOG_ENTRY_TAG[kind];
  entry.set(document, 1);
  const [leaf, hash] = await Promise.all([
    leafHash(entry),
    documentHash === undefined ? tokenHash(document) : Promise.resolve(documentHash),
  ]);
  const log = issuanceLogRepository(tx);
  const head = await log.lockHead();
  const { frontier, completed } = await appendLeaf(head, leaf);
  await log.append(
    head.size,
    { kind, document, leafHash: leaf, documentHash: hash },
    completed,
    frontier,
    now,
  );
  return { index: head.size, documentHash: hash };
}

/**
 * Appends a document unless it is already in the log (issuer certificates, read from
 * files at every start): checked under the head lock, so two instances starting together
 * log it once.
 */
export async function appendOnce(
  db: Db,
  kind: DocumentKind,
  document: Uint8Array,
  now: Date,
): Promise<LoggedEntry> {
  const documentHash = await tokenHash(document);
  return db.transaction(async (tx) => {
    const log = issuanceLogRepository(tx);
    await log.lockHead();
    const existing = await log.byDocumentHash(documentHash);
    if (existing) return { index: existing.index, documentHash };
    return appendToLog(tx, kind, document, now, documentHash);
  });
}

/** Proofs and checkpoints over the committed log, signed with the log key. */
export class IssuanceLog {
  private signing: Promise<CheckpointRecord> | undefined;

  constructor(
    private readonly db: Db,
    private readonly key: LogKey,
    private readonly now: () => Date,
  ) {}

  get origin(): string {
    return this.key.origin;
  }

  get verifierKey(): string {
    return this.key.verifierKey;
  }

  /** The newest checkpoint, or undefined before the first. */
  latest(): Promise<CheckpointRecord | undefined> {
    return issuanceLogRepository(this.db).latestCheckpoint();
  }

  /**
   * A checkpoint of the log as committed now, signed unless the newest one already has
   * this size. Concurrent callers in this process share one signature; another instance
   * signing the same size writes the same note (Ed25519 is deterministic), kept once.
   */
  checkpoint(): Promise<CheckpointRecord> {
    this.signing ??= this.signHead().finally(() => {
      this.signing = undefined;
    });
    return this.signing;
  }

  private async signHead(): Promise<CheckpointRecord> {
    const log = issuanceLogRepository(this.db);
    const [head, latest] = await Promise.all([log.head(), log.latestCheckpoint()]);
    if (latest && latest.size >= head.size) return latest;
    const root = await frontierRoot(head);
    const note = await signCheckpoint(
      { origin: this.key.origin, size: head.size, rootHash: root },
      this.key.signing,
    );
    const record = { size: head.size, root, note, createdAt: this.now() };
    await log.insertCheckpoint(record);
    return (await log.checkpointAt(head.size)) ?? record;
  }

  /** A checkpoint of at least `size` entries: the newest one, or a new one on demand. */
  private async checkpointCovering(size: number): Promise<CheckpointRecord> {
    const latest = await this.latest();
    if (latest && latest.size >= size) return latest;
    const fresh = await this.checkpoint();
    if (fresh.size < size) throw new StoreError('NOT_FOUND', 'No such log entry.');
    return fresh;
  }

  /**
   * The proof bundle of entry `index` under the newest checkpoint that contains it (made on
   * demand when none does yet): what a client keeps beside its token, offline.
   */
  async bundle(index: number): Promise<LogProofBundle> {
    const checkpoint = await this.checkpointCovering(index + 1);
    const reader = issuanceLogRepository(this.db).reader();
    const path = await inclusionProof(reader, index, checkpoint.size);
    return createProofBundle(index, checkpoint.size, path, checkpoint.note);
  }

  /** The bundle of a document by the base64url SHA-256 of its bytes (a token's hash). */
  async bundleFor(documentHash: string): Promise<LogProofBundle & { kind: DocumentKind }> {
    const entry = await issuanceLogRepository(this.db).byDocumentHash(documentHash);
    if (!entry) throw new StoreError('NOT_FOUND', 'No log entry for this document.');
    return { ...(await this.bundle(entry.index)), kind: entry.kind };
  }

  /** The bundle of a token as the store handed it out (its text form). */
  async bundleForToken(token: string): Promise<LogProofBundle> {
    const { kind: _kind, ...bundle } = await this.bundleFor(await tokenHash(documentBytes(token)));
    return bundle;
  }

  /** The consistency proof between two checkpointed sizes, first ≤ second. */
  async consistency(first: number, second: number): Promise<Uint8Array[]> {
    const log = issuanceLogRepository(this.db);
    const head = await log.head();
    if (first > second || second > head.size) {
      throw new StoreError('BAD_REQUEST', `Sizes must satisfy first ≤ second ≤ ${head.size}.`);
    }
    return consistencyProof(log.reader(), first, second);
  }
}
