/**
 * Issue 7's log cost on refresh, second step (after 0008):
 * - every queued document carries its RFC 9162 leaf hash, computed where it is queued (a
 *   token: where it is signed), and a token's log entry refers to its row in tokens
 *   instead of holding a second copy of its bytes; tokens become append-only, which they
 *   have always been in practice, because the log now depends on it;
 * - the sequencer is one statement, `log_sequence`: on PGlite a transaction holds the one
 *   executor for every request until it ends, and the sequencer's five round trips, each
 *   waiting for a turn of a busy server thread, held it about three times as long as its
 *   statements ran (timed under load with a scratch patch; BENCHMARKS.md, 2026-12-07
 *   second session).
 * Append only like every migration.
 */

/**
 * The leaf hash of every document queued before this migration: of its bytes in the
 * queue, or of its token's row (queued by hash alone since 0008). SHA-256 of 0x00, the
 * kind's tag, the document's bytes (a JWT's ASCII; a CWT's COSE bytes, decoded from
 * base64url). Exported for its test.
 */
export const BACKFILL_LEAF_HASHES = `
UPDATE log_pending
   SET leaf_hash = sha256('\\x00'::bytea || set_byte('\\x00'::bytea, 0, kind) || document)
 WHERE leaf_hash IS NULL AND document IS NOT NULL;
UPDATE log_pending p
   SET leaf_hash = sha256('\\x0001'::bytea || CASE t.format
         WHEN 'jwt' THEN convert_to(t.token, 'UTF8')
         ELSE decode(translate(t.token, '-_', '+/') || repeat('=', (4 - length(t.token) % 4) % 4), 'base64')
       END)
  FROM tokens t
 WHERE p.leaf_hash IS NULL AND p.document IS NULL AND t.hash = p.document_hash;
`;

/**
 * The sequencer (services/issuance-log.ts sequenceQueued): under the sequencer lock (an
 * advisory lock, waited for or tried) and the head row's lock, moves up to `batch_limit`
 * queued documents, oldest first, into the tree: dense indices from the head's size, the
 * perfect subtrees each leaf completes (node = SHA-256(0x01 ‖ left ‖ right), merged like a
 * binary counter carries, O(log n) per leaf; the store's reads of the tree are core's
 * TreeReader over log_entries and log_nodes), the new head, the queue rows removed. A
 * document queued again once in the tree (a certificate offered at a start) only leaves
 * the queue. `taken`: queue rows handled (-1: another sequencer holds the lock); `added`:
 * entries appended.
 */
export const LOG_SEQUENCE = `
-- 7406811502: the sequencer lock, the same arbitrary constant the JavaScript sequencer took.
CREATE FUNCTION log_sequence(batch_limit integer, wait boolean, sequenced_at timestamptz,
                             OUT taken integer, OUT added integer)
LANGUAGE plpgsql AS $$
DECLARE
  head_size bigint;
  packed bytea;
  -- The frontier: the roots of the perfect subtrees on the tree's right edge.
  edge bytea[];
  queued record;
  carried bytea;
  node_level smallint;
  node_index bigint;
  top integer;
  taken_ids bigint[] := '{}';
  entry_indices bigint[] := '{}';
  entry_kinds smallint[] := '{}';
  entry_documents bytea[] := '{}';
  entry_leaves bytea[] := '{}';
  entry_hashes text[] := '{}';
  node_levels smallint[] := '{}';
  node_indices bigint[] := '{}';
  node_hashes bytea[] := '{}';
BEGIN
  IF wait THEN
    PERFORM pg_advisory_xact_lock(7406811502);
  ELSIF NOT pg_try_advisory_xact_lock(7406811502) THEN
    taken := -1;
    added := 0;
    RETURN;
  END IF;
  SELECT h.size, h.frontier INTO head_size, packed FROM log_head h WHERE h.id FOR UPDATE;
  edge := ARRAY(SELECT substring(packed FROM i * 32 + 1 FOR 32)
                      FROM generate_series(0, length(packed) / 32 - 1) AS i ORDER BY i);
  FOR queued IN
    SELECT p.id, p.kind, p.document, p.leaf_hash, p.document_hash
      FROM log_pending p ORDER BY p.id LIMIT batch_limit
  LOOP
    taken_ids := array_append(taken_ids, queued.id);
    CONTINUE WHEN queued.document IS NOT NULL AND EXISTS (
      SELECT 1 FROM log_entries e WHERE e.document_hash = queued.document_hash);
    entry_indices := array_append(entry_indices, head_size);
    entry_kinds := array_append(entry_kinds, queued.kind);
    entry_documents := array_append(entry_documents, queued.document);
    entry_leaves := array_append(entry_leaves, queued.leaf_hash);
    entry_hashes := array_append(entry_hashes, queued.document_hash);
    carried := queued.leaf_hash;
    node_level := 0;
    node_index := head_size;
    -- A leaf at an odd index completes its parent with the smallest edge node, and so
    -- on up, for as many levels as the index has trailing one bits.
    WHILE node_index % 2 = 1 LOOP
      top := array_length(edge, 1);
      carried := sha256('\\x01'::bytea || edge[top] || carried);
      edge := edge[1:top - 1];
      node_level := node_level + 1;
      node_index := (node_index - 1) / 2;
      node_levels := array_append(node_levels, node_level);
      node_indices := array_append(node_indices, node_index);
      node_hashes := array_append(node_hashes, carried);
    END LOOP;
    edge := array_append(edge, carried);
    head_size := head_size + 1;
  END LOOP;
  taken := coalesce(array_length(taken_ids, 1), 0);
  added := coalesce(array_length(entry_indices, 1), 0);
  IF taken = 0 THEN
    RETURN;
  END IF;
  INSERT INTO log_entries (idx, kind, document, leaf_hash, document_hash, logged_at)
    SELECT e.idx, e.kind, e.document, e.leaf_hash, e.document_hash, sequenced_at
      FROM unnest(entry_indices, entry_kinds, entry_documents, entry_leaves, entry_hashes)
           AS e(idx, kind, document, leaf_hash, document_hash);
  INSERT INTO log_nodes (level, idx, hash)
    SELECT * FROM unnest(node_levels, node_indices, node_hashes);
  DELETE FROM log_pending WHERE id = ANY(taken_ids);
  UPDATE log_head
     SET size = head_size,
         frontier = (SELECT coalesce(string_agg(f.node, ''::bytea ORDER BY f.n), ''::bytea)
                       FROM unnest(edge) WITH ORDINALITY AS f(node, n))
   WHERE id;
END
$$;
`;

export const logEntriesByReference = `
-- The RFC 9162 leaf hash of each queued document's log entry.
ALTER TABLE log_pending ADD COLUMN leaf_hash bytea CHECK (length(leaf_hash) = 32);
${BACKFILL_LEAF_HASHES}
-- A row left without one would be a token row gone missing: stop here rather than log it.
ALTER TABLE log_pending ALTER COLUMN leaf_hash SET NOT NULL;

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
${LOG_SEQUENCE}`;
