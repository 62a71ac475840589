/**
 * Offline activation (DESIGN.md "Offline activation"): the requests the store has answered,
 * so that the same request brought again (a lost response, a double submit, a second QR
 * scan) gets the same response and takes no second seat. Append only like every migration.
 */
export const offlineRequests = `
-- One row per answered request, keyed by the request's hash (base64url SHA-256 of its JWS,
-- what the response names). The response text holds the token and the request's nonce and
-- hash: nothing secret (no license key). nonce is unique: a different request reusing an
-- answered nonce is refused. Rows whose request_iat is older than the store's staleness
-- limit can never match an acceptable request again and are deleted.
CREATE TABLE offline_requests (
  request_hash text PRIMARY KEY,
  nonce text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('activate', 'refresh')),
  license_id text NOT NULL REFERENCES licenses(id),
  device_id text NOT NULL REFERENCES devices(id),
  token_jti text NOT NULL REFERENCES tokens(jti),
  -- What the request's usage report recorded ({ accepted, ignored }), null without one.
  usage jsonb,
  response text NOT NULL,
  request_iat timestamptz NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX offline_requests_license ON offline_requests (license_id, created_at);
CREATE INDEX offline_requests_request_iat ON offline_requests (request_iat);
`;
