import type { VerifiedProof } from '@licensekit/core';
import { LicenseKitError, verifyDeviceProof } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from './clock.js';

/** Accepted age of a device proof (and clock skew ahead), seconds. */
export const DEVICE_PROOF_MAX_AGE = 300;

export interface ProofCheck {
  /** The `DPoP` header. */
  proof: string | undefined;
  method: string;
  /** The store's public URL + the route path: what the device signed as `htu`. */
  url: string;
  /** The request body bytes (`bh`). */
  body: Uint8Array;
  now: Date;
  /** The device the proof must come from, when the request names one. */
  thumbprint?: string | undefined;
}

/**
 * Checks a device proof (RFC 9449 shape, core's verifyDeviceProof: signature by the key in
 * its header, method, URL, age, body hash), that it comes from the expected device, and
 * that its jti was never seen before: the jti is recorded at once, outside the request's
 * transaction, so a proof is spent even when the request then fails.
 * @throws StoreError DEVICE_PROOF_INVALID
 */
export async function checkDeviceProof(db: Queryable, check: ProofCheck): Promise<VerifiedProof> {
  if (check.proof === undefined || check.proof === '') {
    throw new StoreError('DEVICE_PROOF_INVALID', 'Send a device proof in the DPoP header.');
  }
  let verified: VerifiedProof;
  try {
    verified = await verifyDeviceProof(check.proof, {
      method: check.method,
      url: check.url,
      now: seconds(check.now),
      maxAge: DEVICE_PROOF_MAX_AGE,
      body: check.body,
    });
  } catch (error) {
    if (!(error instanceof LicenseKitError)) throw error;
    throw new StoreError(
      'DEVICE_PROOF_INVALID',
      `The device proof is not valid: ${error.message}.`,
    );
  }
  if (check.thumbprint !== undefined && verified.thumbprint !== check.thumbprint) {
    throw new StoreError(
      'DEVICE_PROOF_INVALID',
      'The device proof was made by another device key.',
    );
  }
  const fresh = await db.query(
    'INSERT INTO device_proofs (jti, seen_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING RETURNING jti',
    [`${verified.thumbprint}.${verified.jti}`, check.now],
  );
  if (fresh.length === 0) {
    throw new StoreError('DEVICE_PROOF_INVALID', 'This device proof was already used.');
  }
  return verified;
}
