/**
 * The issuance log (DESIGN.md "Issuance log"): an append-only RFC 9162 Merkle tree over
 * every document the store signs. Append only like every migration.
 */
export const issuanceLog = `
-- The head of the log: its size and the frontier (the roots of the perfect subtrees on
-- its right edge, largest first, 32 bytes each, concatenated), so an append costs
-- O(log n) and never rehashes the log. One row; appenders lock it (FOR UPDATE) until they
-- commit, which keeps indices dense and gap-free across instances.
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
