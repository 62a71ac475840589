import type { TokenFormat } from '@licensekit/core';
import { decodeDocument, LicenseKitError, readLicenseClaims, tokenHash } from '@licensekit/core';
import type { Verifier } from '@licensekit/verifier';
import { createVerifier, REFRESH_PATH } from '@licensekit/verifier';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import { checkDeviceProof } from '../lib/device-proof.js';
import type { StoreKeys } from '../lib/keys.js';
import type { DeviceRecord } from '../repositories/devices.js';
import { devicesRepository } from '../repositories/devices.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import { tokensRepository } from '../repositories/tokens.js';
import { lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import { assertUsable, isRevoked } from './licensing.js';
import type { IssuedToken } from './tokens.js';
import { issueLicenseToken } from './tokens.js';

/**
 * Refresh: the next token of a license's lineage, built from the store's records.
 *
 * With a token (what the verifier sends): it must verify against the store's own root key
 * (any verdict after the signature will do: an expired token is what refresh is for) and
 * be one the store issued (its hash is in the issuance log). A token bound to a device
 * needs a proof from that device's key, and is renewed bound to the same device.
 * With a license key: an unbound token, or a bound one for an active device that proves
 * its key.
 */

const SIGNATURE_FAILURES = new Set(['malformed', 'untrusted_key', 'invalid_signature']);
const verifiers = new WeakMap<StoreKeys, Map<string, Verifier>>();

/** A stateless verifier per product (the store sees the tokens of many devices). */
function verifierFor(ctx: StoreContext, product: string): Verifier {
  let byProduct = verifiers.get(ctx.keys);
  if (!byProduct) {
    byProduct = new Map();
    verifiers.set(ctx.keys, byProduct);
  }
  let verifier = byProduct.get(product);
  if (!verifier) {
    verifier = createVerifier({
      trust: { roots: [ctx.keys.rootPublicJwk] },
      product,
      state: false,
      clock: () => ctx.clock.now(),
    });
    byProduct.set(product, verifier);
  }
  return verifier;
}

export interface TokenRefresh {
  token: string;
  format?: TokenFormat | undefined;
  proof: string | undefined;
  body: Uint8Array;
}

/**
 * @throws StoreError TOKEN_INVALID, DEVICE_NOT_FOUND, DEVICE_PROOF_INVALID,
 *   LICENSE_REVOKED, PAYMENT_REQUIRED
 */
export async function refreshWithToken(
  ctx: StoreContext,
  request: TokenRefresh,
): Promise<IssuedToken> {
  const now = ctx.clock.now();
  let hash: string;
  let format: TokenFormat;
  try {
    const document = decodeDocument(request.token, 'license');
    readLicenseClaims(document);
    hash = await tokenHash(document.bytes);
    format = document.format;
  } catch (error) {
    if (!(error instanceof LicenseKitError)) throw error;
    throw new StoreError('TOKEN_INVALID');
  }
  const record = await tokensRepository(ctx.db).byHash(hash);
  if (!record) throw new StoreError('TOKEN_INVALID');
  const license = await licensesRepository(ctx.db).byId(record.licenseId);
  if (!license) throw new StoreError('TOKEN_INVALID');
  const result = await verifierFor(ctx, license.productId).verify(request.token);
  if (SIGNATURE_FAILURES.has(result.status) || result.claims?.sub !== license.id) {
    throw new StoreError('TOKEN_INVALID');
  }
  if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');

  let device: DeviceRecord | undefined;
  if (record.deviceId !== null) {
    device = await devicesRepository(ctx.db).activeById(license.id, record.deviceId);
    if (!device) throw new StoreError('DEVICE_NOT_FOUND');
    await checkDeviceProof(ctx.db, {
      proof: request.proof,
      method: 'POST',
      url: `${ctx.config.publicUrl}${REFRESH_PATH}`,
      body: request.body,
      now,
      thumbprint: device.thumbprint,
    });
  }
  return nextToken(ctx, license.id, device, request.format ?? format, now);
}

export interface KeyRefresh {
  /** The device to bind to; a proof by its key is then required. */
  thumbprint?: string | undefined;
  format?: TokenFormat | undefined;
  proof: string | undefined;
  body: Uint8Array;
}

/** @throws StoreError DEVICE_PROOF_INVALID, DEVICE_NOT_FOUND, LICENSE_REVOKED, PAYMENT_REQUIRED */
export async function refreshWithKey(
  ctx: StoreContext,
  license: LicenseRecord,
  request: KeyRefresh,
): Promise<IssuedToken> {
  const now = ctx.clock.now();
  if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
  let device: DeviceRecord | undefined;
  if (request.thumbprint !== undefined || (request.proof !== undefined && request.proof !== '')) {
    const proof = await checkDeviceProof(ctx.db, {
      proof: request.proof,
      method: 'POST',
      url: `${ctx.config.publicUrl}${REFRESH_PATH}`,
      body: request.body,
      now,
      thumbprint: request.thumbprint,
    });
    device = await devicesRepository(ctx.db).activeByThumbprint(license.id, proof.thumbprint);
    if (!device) throw new StoreError('DEVICE_NOT_FOUND');
  }
  return nextToken(ctx, license.id, device, request.format, now);
}

async function nextToken(
  ctx: StoreContext,
  licenseId: string,
  device: DeviceRecord | undefined,
  format: TokenFormat | undefined,
  now: Date,
): Promise<IssuedToken> {
  return ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertUsable(ctx.config, license);
    if (device) {
      const devices = devicesRepository(tx);
      // Deactivated while this request waited for the lock?
      if (!(await devices.activeById(license.id, device.id))) {
        throw new StoreError('DEVICE_NOT_FOUND');
      }
      await devices.touch(device.id, now);
    }
    return issueLicenseToken(tx, ctx, license.id, {
      device: device && { id: device.id, thumbprint: device.thumbprint },
      format,
      now,
      // Locked and brought up to date just above, and not changed since.
      locked: license,
    });
  });
}

/**
 * The license's current unbound token (the portal's "download the current token"): the
 * newest one when it reflects the license as it is now (issued after the last change of
 * terms, in the asked format) and is not yet due for refresh; otherwise a new one.
 * @throws StoreError LICENSE_REVOKED, PAYMENT_REQUIRED
 */
export async function currentToken(
  ctx: StoreContext,
  licenseId: string,
  options: { format?: TokenFormat | undefined } = {},
): Promise<IssuedToken> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertUsable(ctx.config, license);
    const latest = await tokensRepository(tx).latestUnbound(license.id);
    if (
      latest &&
      (options.format === undefined || latest.format === options.format) &&
      latest.issuedAt >= license.updatedAt
    ) {
      const claims = readLicenseClaims(decodeDocument(latest.token, 'license'));
      if (claims.rfa === undefined || seconds(now) < claims.rfa) {
        return {
          token: latest.token,
          jti: latest.jti,
          seq: latest.seq,
          hash: latest.hash,
          format: latest.format,
          expiresAt: latest.expiresAt,
          test: license.test,
        };
      }
    }
    return issueLicenseToken(tx, ctx, license.id, { format: options.format, now });
  });
}
