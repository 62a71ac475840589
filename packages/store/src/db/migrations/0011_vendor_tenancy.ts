/**
 * Vendors as tenants (issue 10): admin tokens per vendor, and webhook endpoints that belong
 * to a vendor. Append only like every migration.
 */
export const vendorTenancy = `
-- A vendor's admin API tokens. Only a keyed hash of the token is kept (HMAC under the store
-- secret, like license keys): the token is shown once, at creation. A revoked token stays
-- (revoked_at set) so its id still names it in the list.
CREATE TABLE vendor_tokens (
  id text PRIMARY KEY,
  vendor_id text NOT NULL REFERENCES vendors(id),
  label text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX vendor_tokens_vendor ON vendor_tokens (vendor_id, created_at);

-- The store's own vendor (config "vendor", marked at every start): it owns the products
-- without a vendor_id, which the database must know to route their events.
ALTER TABLE vendors ADD COLUMN store boolean NOT NULL DEFAULT false;

-- An endpoint made with a vendor's token receives only that vendor's events; NULL = the
-- operator's endpoint, which receives every event (as before).
ALTER TABLE webhook_endpoints ADD COLUMN vendor_id text REFERENCES vendors(id);
CREATE INDEX webhook_endpoints_vendor ON webhook_endpoints (vendor_id);
`;
