import type { DocumentKind } from '@licensekit/core';
import { base64urlDecode, tokenHash, utf8Encode } from '@licensekit/core';
import type { LogProofBundle } from '@licensekit/core/log';
import {
  consistencyProof,
  createProofBundle,
  frontierRoot,
  inclusionProof,
  logEntryHash,
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

/**
 * Records a document for the log in `tx`, the transaction that records what it signed: if
 * that commits, the document is in the log's queue and will be in the tree; if it rolls
 * back, neither. One INSERT with no lock shared with other issuing transactions — the
 * tree itself is extended by the sequencer (sequenceQueued), in batches.
 */
export async function appendToLog(
  tx: Queryable,
  kind: DocumentKind,
  document: Uint8Array,
  now: Date,
  documentHash?: string,
): Promise<{ documentHash: string }> {
  const hash = documentHash ?? (await tokenHash(document));
  // Hashed here, in the signing transaction: a document over the size verifiers accept
  // fails its own issue (ConfigError) instead of reaching the queue.
  const leaf = await logEntryHash(kind, document);
  await issuanceLogRepository(tx).queue(kind, document, hash, leaf, now);
  return { documentHash: hash };
}

/**
 * Records a document unless it is already queued or in the log (issuer certificates,
 * read from files at every start): log_pending's unique document hash and the sequencer's
 * check against the tree keep it to one entry, however many instances start together.
 */
export async function appendOnce(
  db: Db,
  kind: DocumentKind,
  document: Uint8Array,
  now: Date,
): Promise<{ documentHash: string }> {
  const documentHash = await tokenHash(document);
  const log = issuanceLogRepository(db);
  if (await log.byDocumentHash(documentHash)) return { documentHash };
  await log.queue(kind, document, documentHash, await logEntryHash(kind, document), now);
  return { documentHash };
}

/**
 * Queued documents moved into the tree per sequencer statement. Small, because the
 * statement is the store's longest and, on PGlite (one executor), every request waits
 * behind it: batches of 1,000 took 20–35 ms; 128 keeps each wait to a few ms, the
 * requests queued meanwhile running between batches (bench store, PGlite, p99 at 8
 * connections 58–65 ms → 41–42 ms, BENCHMARKS.md).
 */
const SEQUENCE_BATCH = 128;

/**
 * The sequencer: moves committed queued documents into the tree, in queue order, giving
 * them the next dense indices, hashing O(log n) nodes per entry and storing the perfect
 * subtrees they complete. Each batch is one statement, the database function
 * `log_sequence` (migration 0017), so no transaction stays open across round trips. One
 * sequencer at a time across instances (an advisory lock: the periodic run leaves the work
 * to an instance that holds it; `wait` queues behind it, for a checkpoint or a proof that
 * must include what was just issued), and the head row locked too, so the tree never
 * forks. Returns how many documents it added.
 */
export async function sequenceQueued(
  db: Db,
  now: Date,
  options: { wait?: boolean } = {},
): Promise<number> {
  let total = 0;
  for (;;) {
    const [batch] = await db.query<{ taken: number; added: number }>(
      'SELECT taken, added FROM log_sequence($1, $2, $3)',
      [SEQUENCE_BATCH, options.wait === true, now],
    );
    // taken -1: another instance's sequencer holds the lock, and does the work.
    if (!batch || batch.taken < 0) return total;
    total += batch.added;
    if (batch.taken < SEQUENCE_BATCH) return total;
  }
}

/**
 * Documents sequenced between two VACUUMs of the queue on PGlite. PGlite has no
 * autovacuum, and every queue row is inserted and then deleted: without VACUUM the dead
 * rows' pages and index entries stay, the queue grows by ≈ 130 bytes for every document
 * ever issued and the sequencer's reads of it slow down as it does. A VACUUM after this
 * many takes 6–27 ms, and the queue then stays under 3.5 MB however many documents pass
 * (`node bench/queue-vacuum.mjs`). PostgreSQL's autovacuum does this by itself.
 */
export const QUEUE_VACUUM_EVERY = 20_000;

/**
 * The queue's upkeep for the periodic sequencer: `sequenced(n)` after each run; on PGlite,
 * every `every` documents, VACUUMs the queue. Resolves to whether it did.
 */
export function queueUpkeep(
  db: Db,
  every = QUEUE_VACUUM_EVERY,
): { sequenced(count: number): Promise<boolean> } {
  let since = 0;
  return {
    async sequenced(count) {
      since += count;
      if (db.kind !== 'pglite' || since < every) return false;
      since = 0;
      await db.exec('VACUUM log_pending');
      return true;
    },
  };
}

/** Proofs and checkpoints over the committed log, signed with the log key. */
export class IssuanceLog {
  /** The sequence-and-sign run under way in this process, if any. */
  private signing: Promise<CheckpointRecord> | undefined;
  /** The run that starts when it ends, shared by the callers that came meanwhile. */
  private next: Promise<CheckpointRecord> | undefined;

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
   * A checkpoint of the log as committed now — everything committed before the call
   * included — signed unless the newest one already has this size. A run already under way
   * is not shared: it may have read the queue before the caller's own commit (a token just
   * issued, then its proof asked for), and its checkpoint would leave that out. The caller
   * waits for it, then for the next run, which the callers that came meanwhile share.
   * Another instance signing the same size writes the same note (Ed25519 is
   * deterministic), kept once.
   */
  checkpoint(): Promise<CheckpointRecord> {
    if (this.signing === undefined) return this.startSigning();
    this.next ??= this.signing
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.startSigning();
      });
    return this.next;
  }

  private startSigning(): Promise<CheckpointRecord> {
    const run = this.sequenceAndSign().finally(() => {
      if (this.signing === run) this.signing = undefined;
    });
    this.signing = run;
    return run;
  }

  /**
   * Moves what is queued into the tree now, waiting for a sequencer of another instance
   * if one runs: a checkpoint or a proof asked for right after issuing must include it.
   */
  sequence(): Promise<number> {
    return sequenceQueued(this.db, this.now(), { wait: true });
  }

  private async sequenceAndSign(): Promise<CheckpointRecord> {
    await this.sequence();
    return this.signHead();
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
    const log = issuanceLogRepository(this.db);
    let entry = await log.byDocumentHash(documentHash);
    if (!entry) {
      // Issued a moment ago: sequence it now rather than make the client come back. A
      // sequencer may also have moved it into the tree between the two reads (a document
      // only ever moves from the queue to the tree), so the tree is read again either way.
      if (await log.isQueued(documentHash)) await this.sequence();
      entry = await log.byDocumentHash(documentHash);
    }
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
