import { LOG_SEQUENCE } from './0017_log_entries_by_reference.js';

/**
 * Issue 7's log cost on refresh, third step: the sequencer's loop looked each queued
 * document up in the tree (a subquery, so a full executor run per entry in PL/pgSQL)
 * whenever its bytes were queued, and the test for that ran for every entry. A license
 * token is queued without its bytes, once, by the statement that writes it: it is never in
 * the tree yet, and now skips the lookup's expression altogether. The same function
 * otherwise (0017). Append only like every migration.
 */
const LOOKUP = `    CONTINUE WHEN queued.document IS NOT NULL AND EXISTS (
      SELECT 1 FROM log_entries e WHERE e.document_hash = queued.document_hash);`;
const LOOKUP_FOR_BYTES_ONLY = `    IF queued.document IS NOT NULL THEN
      CONTINUE WHEN EXISTS (
        SELECT 1 FROM log_entries e WHERE e.document_hash = queued.document_hash);
    END IF;`;

if (!LOG_SEQUENCE.includes(LOOKUP)) throw new Error("0019: log_sequence is not 0017's");

export const logSequenceSkipsTokens = LOG_SEQUENCE.replace(
  'CREATE FUNCTION log_sequence(',
  'CREATE OR REPLACE FUNCTION log_sequence(',
).replace(LOOKUP, LOOKUP_FOR_BYTES_ONLY);
