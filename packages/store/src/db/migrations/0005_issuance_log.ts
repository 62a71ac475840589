/**
 * The issuance log (DESIGN.md "Issuance log"): an append-only RFC 9162 Merkle tree over
 * every document the store signs. Append only like every migration.
 */
export const issuanceLog = `
-- Documents recorded but not yet in the tree: a signing transaction inserts its document
-- here (no lock shared with other transactions, so issuing never queues behind the log);
-- the sequencer moves committed rows into the tree in batches, dense and in one order.
-- A rolled-back issue leaves no row, so no gap. document_hash is unique: a document is
-- logged once (issuer certificates are offered at every start).
CREATE TABLE log_pending (
  id bigserial PRIMARY KEY,
  kind smallint NOT NULL CHECK (kind IN (1, 2, 3)),
  document bytea NOT NULL,
  document_hash text NOT NULL UNIQUE,
  queued_at timestamptz NOT NULL
);

-- The head of the log: its size and the frontier (the roots of the perfect subtrees on
-- its right edge, largest first, 32 bytes each, concatenated), so an append costs
-- O(log n) and never rehashes the log. One row, locked (FOR UPDATE) by the sequencer.
CREATE TABLE log_head (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  size bigint NOT NULL CHECK (size >= 0),
  frontier bytea NOT NULL CHECK (length(frontier) % 32 = 0)
);
INSERT INTO log_head (id, size, frontier) VALUES (true, 0, ''::bytea);

-- Entry i of the log: the exact signed bytes of a document and their leaf hash. kind: 1
-- license token, 2 issuer certificate, 3 revocation list. document_hash is the base64url
-- SHA-256 of the document's bytes (tokens.hash for tokens), to find an entry's proof.
CREATE TABLE log_entries (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  kind smallint NOT NULL CHECK (kind IN (1, 2, 3)),
  document bytea NOT NULL,
  leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
  document_hash text NOT NULL,
  logged_at timestamptz NOT NULL
);
CREATE INDEX log_entries_document_hash ON log_entries (document_hash);

-- Perfect subtrees of height level >= 1: node (level, idx) covers the leaves
-- [idx * 2^level, (idx + 1) * 2^level). Written once, when its last leaf is appended.
CREATE TABLE log_nodes (
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- Signed checkpoints (C2SP tlog-checkpoint in a signed note), one per tree size.
CREATE TABLE log_checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  root bytea NOT NULL CHECK (length(root) = 32),
  note text NOT NULL,
  created_at timestamptz NOT NULL
);
`;
