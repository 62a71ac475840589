/**
 * E-mail: the durable mail outbox, sign-in links, their request log and the sessions they
 * open, and the audit trail of license-key replacements. Append-only like every migration.
 */
export const mail = `
-- One row per e-mail to a customer, written in the transaction of what it tells about
-- (services/mail-outbox.ts). The message is rendered when it is sent, from data (ids and
-- terms, never a key, a link token or an address) and the records it names. The one secret
-- a mail may carry (the receipt's license key, a sign-in link's token) is in sealed:
-- AES-256-GCM under a key derived from the store secret and the row id, set to NULL once
-- the mail is sent or given up.
CREATE TABLE mail_outbox (
  id text PRIMARY KEY,
  kind text NOT NULL,
  customer_id text NOT NULL REFERENCES customers(id),
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  sealed bytea,
  created_at timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  -- Not worth sending after this (a sign-in link that has expired); NULL = no limit.
  expires_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  sent_at timestamptz,
  failed_at timestamptz,
  last_error text
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
  WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_customer ON mail_outbox (customer_id, created_at);

-- Sign-in links (magic links) for the portal: the token only as a keyed hash, single use
-- (used_at set by the one UPDATE that accepts it), short-lived.
CREATE TABLE sign_in_links (
  token_hash text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers(id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX sign_in_links_expires_at ON sign_in_links (expires_at);

-- Every request for a sign-in link, known address or not (the rate limit must not tell
-- which): the client (IPv4 address or IPv6 /64) and the address as a keyed hash.
CREATE TABLE sign_in_requests (
  client text NOT NULL,
  email_hash text NOT NULL,
  requested_at timestamptz NOT NULL
);
CREATE INDEX sign_in_requests_client ON sign_in_requests (client, requested_at);
CREATE INDEX sign_in_requests_email ON sign_in_requests (email_hash, requested_at);

-- Portal sessions opened by an e-mail link: they proved control of the customer's mailbox,
-- which replacing the license key asks for. session_hash is a keyed hash of the session id
-- under a domain of its own (not portal_sessions.id_hash); a row outlives its session at
-- most until expires_at, when it is deleted.
CREATE TABLE portal_link_sessions (
  session_hash text PRIMARY KEY,
  license_id text NOT NULL REFERENCES licenses(id),
  expires_at timestamptz NOT NULL
);
CREATE INDEX portal_link_sessions_expires_at ON portal_link_sessions (expires_at);

-- The audit trail of key replacements: which license, whose, when; the keys themselves
-- never, only their four-character hints (as licenses.key_hint).
CREATE TABLE license_key_replacements (
  id text PRIMARY KEY,
  license_id text NOT NULL REFERENCES licenses(id),
  customer_id text NOT NULL REFERENCES customers(id),
  old_key_hint text NOT NULL,
  new_key_hint text NOT NULL,
  replaced_at timestamptz NOT NULL
);
CREATE INDEX license_key_replacements_license ON license_key_replacements (license_id, replaced_at);
`;
