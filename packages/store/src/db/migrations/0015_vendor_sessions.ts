/**
 * Sessions of the vendor dashboard (routes/pages/vendor-*.ts), opened by signing in with one
 * of the vendor's tokens (services/vendor-tokens.ts). Append only like every migration.
 */
export const vendorSessions = `
-- Only a keyed hash of the session id is kept (the cookie holds the id). The session is
-- scoped to its vendor, and tied to the token it was opened with: revoking the token ends
-- the session (the lookup joins the token and wants it unrevoked).
CREATE TABLE vendor_sessions (
  id_hash text PRIMARY KEY,
  vendor_id text NOT NULL REFERENCES vendors(id),
  token_id text NOT NULL REFERENCES vendor_tokens(id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX vendor_sessions_expires ON vendor_sessions (expires_at);
`;
