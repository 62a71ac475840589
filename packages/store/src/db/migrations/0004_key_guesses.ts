/**
 * Key guesses: the failed license-key lookups of each client, shared by every instance on
 * the database and kept across restarts (lib/failure-limiter.ts). Append-only like every
 * migration.
 */
export const keyGuesses = `
-- One row per client (an IPv4 address or an IPv6 /64) with failures in the current window.
-- A sliding log: failures holds the times (on the store's clock) of the client's newest
-- failures still inside the window, oldest first, at most the limit of them: the client
-- is blocked while it holds the limit, until its oldest entry leaves the window.
-- expires_at is when the newest entry leaves it: the row means nothing after that and is
-- deleted opportunistically (key_guesses_expires_at finds those rows).
CREATE TABLE key_guesses (
  client text PRIMARY KEY,
  failures timestamptz[] NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX key_guesses_expires_at ON key_guesses (expires_at);
`;
