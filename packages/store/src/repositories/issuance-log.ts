import type { DocumentKind } from '@licensekit/core';
import type { Frontier, TreeReader } from '@licensekit/core/log';
import { HASH_LENGTH, LOG_ENTRY_TAG } from '@licensekit/core/log';
import type { Queryable } from '../db/client.js';
import { tokenBytes } from './tokens.js';

/**
 * Rows of the issuance log (migration 0005): the head (size and frontier), entries
 * (leaves, level 0), the perfect subtrees they complete (level ≥ 1) and signed checkpoints.
 */

/** An entry as read: its document's bytes from the entry, or from tokens (kind 1). */
export interface LogEntryRecord {
  index: number;
  kind: DocumentKind;
  document: Uint8Array;
  leafHash: Uint8Array;
  documentHash: string;
  loggedAt: Date;
}

export interface CheckpointRecord {
  size: number;
  root: Uint8Array;
  note: string;
  createdAt: Date;
}

const KIND_OF_TAG = new Map(
  (Object.entries(LOG_ENTRY_TAG) as [DocumentKind, number][]).map(([kind, tag]) => [tag, kind]),
);

function bytes(value: Uint8Array | Buffer): Uint8Array {
  return value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function splitFrontier(size: number, packed: Uint8Array): Frontier {
  const nodes: Uint8Array[] = [];
  for (let offset = 0; offset < packed.length; offset += HASH_LENGTH) {
    nodes.push(packed.slice(offset, offset + HASH_LENGTH));
  }
  return { size, nodes };
}

/**
 * An entry's columns and, for an entry that refers to its token (migration 0017), that
 * token's text and format.
 */
const ENTRY_COLUMNS = `e.idx, e.kind, e.document, e.leaf_hash, e.document_hash, e.logged_at, t.token, t.format
  FROM log_entries e LEFT JOIN tokens t ON e.document IS NULL AND t.hash = e.document_hash`;

interface EntryRow {
  idx: number | string;
  kind: number;
  document: Uint8Array | null;
  leaf_hash: Uint8Array;
  document_hash: string;
  logged_at: Date;
  token: string | null;
  format: string | null;
}

function toEntry(row: EntryRow): LogEntryRecord {
  const kind = KIND_OF_TAG.get(row.kind);
  if (kind === undefined) throw new Error(`log entry ${row.idx} has an unknown kind ${row.kind}`);
  let document: Uint8Array;
  if (row.document !== null) document = bytes(row.document);
  else if (row.token !== null && row.format !== null) document = tokenBytes(row.token, row.format);
  // tokens_append_only (migration 0017) keeps this from happening; say so if it does.
  else throw new Error(`log entry ${row.idx} refers to a token that is not in tokens`);
  return {
    index: Number(row.idx),
    kind,
    document,
    leafHash: bytes(row.leaf_hash),
    documentHash: row.document_hash,
    loggedAt: row.logged_at,
  };
}

export function issuanceLogRepository(db: Queryable) {
  return {
    /** The head as committed, without a lock (checkpoints, proofs). */
    async head(): Promise<Frontier> {
      const [row] = await db.query<{ size: number | string; frontier: Uint8Array }>(
        'SELECT size, frontier FROM log_head WHERE id',
      );
      if (!row) throw new Error('the issuance log has no head row (migration 0005)');
      return splitFrontier(Number(row.size), bytes(row.frontier));
    },

    /**
     * Queues a document with its bytes (a certificate, a revocation list; tokens are
     * queued by the statement that writes them, repositories/tokens.ts) and its entry's
     * leaf hash, in the caller's transaction: one INSERT that takes no lock other
     * transactions wait for. A document already queued is not queued twice (false); one
     * already in the tree is dropped by the sequencer.
     */
    async queue(
      kind: DocumentKind,
      document: Uint8Array,
      documentHash: string,
      leafHash: Uint8Array,
      now: Date,
    ): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO log_pending (kind, document, document_hash, leaf_hash, queued_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (document_hash) WHERE document IS NOT NULL DO NOTHING RETURNING id`,
        [LOG_ENTRY_TAG[kind], document, documentHash, leafHash, now],
      );
      return rows.length > 0;
    },

    /**
     * Whether anything waits for the sequencer. Through the primary key: a scan of the
     * table would read every page that dead queue rows left since the last VACUUM.
     */
    async hasQueued(): Promise<boolean> {
      const rows = await db.query('SELECT 1 FROM log_pending ORDER BY id LIMIT 1');
      return rows.length > 0;
    },

    /**
     * Whether a document not found in the tree may still be on its way there: queued with
     * its bytes, or a token (queued by the statement that wrote it, and the queue has no
     * index on a token's hash: migration 0017). The caller reads the tree again after
     * sequencing, so a token that was never queued (a store before the log) costs one
     * sequencer run and is then not found.
     */
    async isQueued(documentHash: string): Promise<boolean> {
      const rows = await db.query(
        `SELECT 1 FROM log_pending WHERE document_hash = $1 AND document IS NOT NULL
         UNION ALL SELECT 1 FROM tokens WHERE hash = $1 LIMIT 1`,
        [documentHash],
      );
      return rows.length > 0;
    },

    /** Reads stored subtrees in one round trip: leaves from entries, the rest from nodes. */
    reader(): TreeReader {
      return {
        async nodeHash(level, index) {
          const [hash] = await this.nodeHashes!([{ level, index }]);
          return hash!;
        },
        async nodeHashes(addresses) {
          const rows = await db.query<{ level: number; idx: number | string; hash: Uint8Array }>(
            `SELECT 0::smallint AS level, idx, leaf_hash AS hash FROM log_entries
               WHERE idx = ANY($1::bigint[])
             UNION ALL
             SELECT n.level, n.idx, n.hash FROM log_nodes n
               JOIN unnest($2::smallint[], $3::bigint[]) AS want(level, idx)
                 ON n.level = want.level AND n.idx = want.idx`,
            [
              addresses.filter((a) => a.level === 0).map((a) => a.index),
              addresses.filter((a) => a.level > 0).map((a) => a.level),
              addresses.filter((a) => a.level > 0).map((a) => a.index),
            ],
          );
          const found = new Map(rows.map((row) => [`${row.level}:${row.idx}`, bytes(row.hash)]));
          return addresses.map(({ level, index }) => {
            const hash = found.get(`${level}:${index}`);
            if (!hash) throw new Error(`the issuance log has no node (${level}, ${index})`);
            return hash;
          });
        },
      };
    },

    /** Entries [start, end), in order. */
    async entries(start: number, end: number): Promise<LogEntryRecord[]> {
      const rows = await db.query<EntryRow>(
        `SELECT ${ENTRY_COLUMNS} WHERE e.idx >= $1 AND e.idx < $2 ORDER BY e.idx`,
        [start, end],
      );
      return rows.map(toEntry);
    },

    /** The first entry of a document, by the base64url SHA-256 of its bytes. */
    async byDocumentHash(documentHash: string): Promise<LogEntryRecord | undefined> {
      const [row] = await db.query<EntryRow>(
        `SELECT ${ENTRY_COLUMNS} WHERE e.document_hash = $1 ORDER BY e.idx LIMIT 1`,
        [documentHash],
      );
      return row ? toEntry(row) : undefined;
    },

    async latestCheckpoint(): Promise<CheckpointRecord | undefined> {
      const [row] = await db.query<{
        size: number | string;
        root: Uint8Array;
        note: string;
        created_at: Date;
      }>('SELECT size, root, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1');
      return row
        ? {
            size: Number(row.size),
            root: bytes(row.root),
            note: row.note,
            createdAt: row.created_at,
          }
        : undefined;
    },

    /** The checkpoint of exactly this size, when one was made. */
    async checkpointAt(size: number): Promise<CheckpointRecord | undefined> {
      const [row] = await db.query<{ root: Uint8Array; note: string; created_at: Date }>(
        'SELECT root, note, created_at FROM log_checkpoints WHERE size = $1',
        [size],
      );
      return row
        ? { size, root: bytes(row.root), note: row.note, createdAt: row.created_at }
        : undefined;
    },

    /** Checkpoints of size ≥ start, smallest first, at most `limit` (exports). */
    async checkpointsFrom(start: number, limit: number): Promise<CheckpointRecord[]> {
      const rows = await db.query<{
        size: number | string;
        root: Uint8Array;
        note: string;
        created_at: Date;
      }>(
        'SELECT size, root, note, created_at FROM log_checkpoints WHERE size >= $1 ORDER BY size LIMIT $2',
        [start, limit],
      );
      return rows.map((row) => ({
        size: Number(row.size),
        root: bytes(row.root),
        note: row.note,
        createdAt: row.created_at,
      }));
    },

    /**
     * Records a checkpoint; one per size. Two instances checkpointing the same size sign the
     * same text with the same key (Ed25519 is deterministic), so the second insert is a no-op.
     */
    async insertCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
      await db.query(
        `INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (size) DO NOTHING`,
        [checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.createdAt],
      );
    },
  };
}

export type IssuanceLogRepository = ReturnType<typeof issuanceLogRepository>;
