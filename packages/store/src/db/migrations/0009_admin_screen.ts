/**
 * The admin screen (routes/pages/admin*.ts): its sessions, refunds, and the audit trail of
 * what operators did there. Append only like every migration.
 */
export const adminScreen = `
-- A refunded order: the store records the refund (the payment provider returns the money:
-- nothing to return for test orders, by hand for manual ones, in the processor's dashboard
-- for the others). refunded_at is when the store recorded it.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('pending', 'paid', 'failed', 'cancelled', 'refunded'));
ALTER TABLE orders ADD COLUMN refunded_at timestamptz;

-- Sessions of the admin screen, opened with the admin token. Only a keyed hash of the
-- session id is kept (the cookie holds the id), and a keyed fingerprint of the admin token
-- the session was opened with: a store restarted with a new token ends every session.
CREATE TABLE admin_sessions (
  id_hash text PRIMARY KEY,
  token_fingerprint text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- What operators did on the admin screen: refunds, revocations, re-sent receipts,
-- redeliveries, catalogue edits. Never a secret in detail.
CREATE TABLE admin_actions (
  id text PRIMARY KEY,
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL
);
CREATE INDEX admin_actions_created ON admin_actions (created_at, id);
CREATE INDEX admin_actions_target ON admin_actions (target, created_at);
`;
