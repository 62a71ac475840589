/**
 * Issue 7's leftover cost on refresh: a license token is queued for the issuance log by
 * its hash alone. Its bytes are already in tokens (written by the same statement), so the
 * queue row no longer carries a second copy; the sequencer reads them from there. Other
 * kinds (certificates, revocation lists) keep their bytes in the queue. Append only like
 * every migration.
 */
export const logQueueByHash = `
ALTER TABLE log_pending ALTER COLUMN document DROP NOT NULL;
-- Only a license token (kind 1) may be queued without its bytes: tokens.hash has them.
ALTER TABLE log_pending ADD CONSTRAINT log_pending_document_or_token
  CHECK (document IS NOT NULL OR kind = 1);
`;
