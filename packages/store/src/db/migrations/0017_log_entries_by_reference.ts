/**
 * Issue 7's log cost on refresh, second step (after 0008): a license token's log entry
 * refers to its row in tokens instead of holding a second copy of its bytes, and the
 * issuer hands the sequencer the token's leaf hash with the queue row, so the sequencer
 * neither reads the token back nor hashes it; a token's queue row has no index on its
 * hash. Tokens become append-only, which they have
 * always been in practice: the log now depends on it. Append only like every migration.
 */
export const logEntriesByReference = `
-- The RFC 9162 leaf hash of the queued document's log entry, computed by whoever queued
-- it (NULL in rows queued before this migration: the sequencer hashes those itself).
ALTER TABLE log_pending ADD COLUMN leaf_hash bytea
  CHECK (leaf_hash IS NULL OR length(leaf_hash) = 32);

-- A token is queued once, by the statement that writes its row (tokens.hash is unique),
-- so only documents queued with their bytes (certificates offered at every start,
-- revocation lists) need the queue's own uniqueness: a token's queue row no longer adds
-- an entry to an index on its hash.
ALTER TABLE log_pending DROP CONSTRAINT log_pending_document_hash_key;
CREATE UNIQUE INDEX log_pending_offered ON log_pending (document_hash) WHERE document IS NOT NULL;

-- A license token's entry may leave its bytes to tokens (tokens.hash = document_hash).
ALTER TABLE log_entries ALTER COLUMN document DROP NOT NULL;
ALTER TABLE log_entries ADD CONSTRAINT log_entries_document_or_token
  CHECK (document IS NOT NULL OR kind = 1);

-- Entries of the log refer to tokens' bytes, so a token row is never changed or removed.
CREATE FUNCTION tokens_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'tokens are append-only: the issuance log refers to their bytes'
    USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER tokens_append_only BEFORE UPDATE OR DELETE ON tokens
  FOR EACH ROW EXECUTE FUNCTION tokens_append_only();
`;
