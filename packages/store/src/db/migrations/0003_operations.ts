/**
 * Operations: download grants (attachments metering) and where a revocation list came
 * from. Append-only like every migration.
 */
export const operations = `
-- A download that spent a quota unit lets the same license fetch the same file again
-- (resume, parallel ranges) until expires_at without spending another unit.
CREATE TABLE attachment_grants (
  license_id text NOT NULL REFERENCES licenses(id),
  attachment_id text NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (license_id, attachment_id)
);

-- 'store': signed here with the root key found in the data directory (dev setups);
-- 'published': signed offline (licensekit revoke) and uploaded through the admin API.
ALTER TABLE revocation_lists ADD COLUMN source text NOT NULL DEFAULT 'store'
  CHECK (source IN ('store', 'published'));

CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, created_at);
`;
