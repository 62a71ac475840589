/**
 * Licensing: what checkout, payments and activation need beyond the initial schema.
 * Append-only like every migration.
 */
export const licensing = `
-- A trial once per customer and product: the checkout checks it under the customer's row
-- lock, and this index makes it a fact of the database.
CREATE UNIQUE INDEX orders_one_trial ON orders (customer_id, product_id) WHERE kind = 'trial';
CREATE INDEX orders_pending ON orders (license_id, created_at) WHERE status = 'pending';

-- Payment webhook deliveries already processed (webhook-id per provider): a replay is
-- acknowledged and ignored.
CREATE TABLE payment_webhook_events (
  provider text NOT NULL,
  id text NOT NULL,
  type text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (provider, id)
);

-- The current unbound token of a license (portal download) without a scan.
CREATE INDEX tokens_license_unbound ON tokens (license_id, seq DESC) WHERE device_id IS NULL;

-- Pruning of replay-protection rows past their useful age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX device_proofs_seen ON device_proofs (seen_at);
`;
