/**
 * The store's schema. Money is integer minor units (bigint), times are timestamptz, ids
 * are prefixed random strings. Secrets: license keys exist only as keyed hashes
 * (key_hash), portal sessions and idempotency keys only as hashes; no private key is ever
 * stored in the database (keys live in 0600 files beside it).
 */
export const initial = `
CREATE TABLE products (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plans (
  product_id text NOT NULL REFERENCES products(id),
  id text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  price_minor bigint NOT NULL CHECK (price_minor >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  interval text NOT NULL CHECK (interval IN ('month', 'year', 'once')),
  -- For 'once' plans: the term in days; NULL = lifetime.
  term_days integer CHECK (term_days > 0),
  trial_days integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
  per_seat boolean NOT NULL DEFAULT false,
  -- Seats included (per-seat plans: the default quantity).
  seats integer NOT NULL DEFAULT 1 CHECK (seats >= 1),
  quotas jsonb NOT NULL DEFAULT '{}'::jsonb,
  entitlements jsonb NOT NULL DEFAULT '[]'::jsonb,
  grace_days integer NOT NULL DEFAULT 7 CHECK (grace_days >= 0),
  position integer NOT NULL DEFAULT 0,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, id)
);

CREATE TABLE customers (
  id text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE licenses (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers(id),
  product_id text NOT NULL,
  plan_id text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  key_hint text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'trialing', 'active', 'past_due', 'cancelled', 'expired', 'revoked')),
  seats integer NOT NULL DEFAULT 1 CHECK (seats >= 1),
  anchor timestamptz NOT NULL,
  period_start timestamptz NOT NULL,
  period_end timestamptz,
  trial_end timestamptz,
  pending_change jsonb,
  seq integer NOT NULL DEFAULT -1,
  last_token_hash text,
  test boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz,
  revoked_at timestamptz,
  FOREIGN KEY (product_id, plan_id) REFERENCES plans(product_id, id)
);
CREATE INDEX licenses_customer ON licenses (customer_id, product_id);
CREATE INDEX licenses_period_end ON licenses (period_end) WHERE status IN ('active', 'trialing', 'past_due');

CREATE TABLE orders (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers(id),
  product_id text NOT NULL,
  plan_id text NOT NULL,
  license_id text REFERENCES licenses(id),
  kind text NOT NULL CHECK (kind IN ('purchase', 'trial', 'upgrade', 'seats', 'renewal')),
  seats integer NOT NULL DEFAULT 1,
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  currency text NOT NULL,
  provider text NOT NULL,
  provider_ref text,
  status text NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'cancelled')),
  test boolean NOT NULL DEFAULT false,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  paid_at timestamptz,
  FOREIGN KEY (product_id, plan_id) REFERENCES plans(product_id, id)
);
CREATE INDEX orders_license ON orders (license_id);
CREATE UNIQUE INDEX orders_provider_ref ON orders (provider, provider_ref) WHERE provider_ref IS NOT NULL;

-- Replays of a request with the same Idempotency-Key. The key itself is stored only as a
-- keyed hash, and the saved response is encrypted under a key derived from the
-- Idempotency-Key, so the database alone never reveals the license key a checkout showed.
CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key_hash text NOT NULL,
  request_hash text NOT NULL,
  status_code integer,
  response bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key_hash)
);

CREATE TABLE devices (
  id text PRIMARY KEY,
  license_id text NOT NULL REFERENCES licenses(id),
  thumbprint text NOT NULL,
  public_jwk jsonb NOT NULL,
  name text NOT NULL DEFAULT '',
  activated_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  deactivated_at timestamptz
);
CREATE UNIQUE INDEX devices_active ON devices (license_id, thumbprint) WHERE deactivated_at IS NULL;

CREATE TABLE tokens (
  jti text PRIMARY KEY,
  license_id text NOT NULL REFERENCES licenses(id),
  seq integer NOT NULL,
  device_id text REFERENCES devices(id),
  hash text NOT NULL UNIQUE,
  prev text,
  format text NOT NULL CHECK (format IN ('jwt', 'cwt')),
  token text NOT NULL,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz,
  UNIQUE (license_id, seq)
);

CREATE TABLE usage (
  license_id text NOT NULL REFERENCES licenses(id),
  quota text NOT NULL,
  window_start timestamptz NOT NULL,
  -- Device thumbprint of a usage report; '' for use counted by the store (downloads).
  device text NOT NULL DEFAULT '',
  used bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (license_id, quota, window_start, device)
);

CREATE TABLE attachments (
  id text PRIMARY KEY,
  product_id text NOT NULL REFERENCES products(id),
  name text NOT NULL,
  path text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  content_type text NOT NULL DEFAULT 'application/octet-stream',
  -- The quota each download spends (e.g. 'downloads'); NULL = free for any valid license.
  quota text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  url text NOT NULL,
  secret text NOT NULL,
  events jsonb NOT NULL DEFAULT '[]'::jsonb,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_outbox (
  id text PRIMARY KEY,
  endpoint_id text NOT NULL REFERENCES webhook_endpoints(id),
  type text NOT NULL,
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  delivered_at timestamptz,
  failed_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Notifications sent once per license and period (expiring soon, quota low, exhausted).
CREATE TABLE notifications (
  license_id text NOT NULL REFERENCES licenses(id),
  kind text NOT NULL,
  period_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (license_id, kind, period_key)
);

CREATE TABLE revocations (
  kind text NOT NULL CHECK (kind IN ('key', 'license', 'token')),
  value text NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);

CREATE TABLE revocation_lists (
  seq bigint PRIMARY KEY,
  token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE portal_sessions (
  id_hash text PRIMARY KEY,
  license_id text NOT NULL REFERENCES licenses(id),
  csrf_token text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Device-proof jti values already used (replay protection), kept for their max age.
CREATE TABLE device_proofs (
  jti text PRIMARY KEY,
  seen_at timestamptz NOT NULL DEFAULT now()
);
`;
