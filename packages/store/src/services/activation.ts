import type { Ed25519PublicJwk, TokenFormat } from '@licensekit/core';
import { jwkThumbprint, LicenseKitError, parsePublicJwk } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { checkDeviceProof } from '../lib/device-proof.js';
import { newId } from '../lib/ids.js';
import type { DeviceRecord } from '../repositories/devices.js';
import { devicesRepository } from '../repositories/devices.js';
import { licensesRepository } from '../repositories/licenses.js';
import { lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import { assertUsable } from './licensing.js';
import { issueLicenseToken } from './tokens.js';

/**
 * Activation binds a device key to a license, one seat per active device. The device
 * proves it holds the key (a DPoP-shaped proof over this very request) and gets a token
 * bound to it (`cnf`). Seats are counted under the license's row lock, so concurrent
 * activations cannot overfill them.
 */

export const ACTIVATE_PATH = '/v1/licenses/activate';

export interface DeviceView {
  id: string;
  thumbprint: string;
  name: string;
}

export interface DeviceDetails extends DeviceView {
  activatedAt: string;
  lastSeenAt: string | null;
  deactivatedAt: string | null;
}

export function deviceView(device: DeviceRecord): DeviceView {
  return { id: device.id, thumbprint: device.thumbprint, name: device.name };
}

export function deviceDetails(device: DeviceRecord): DeviceDetails {
  return {
    ...deviceView(device),
    activatedAt: device.activatedAt.toISOString(),
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    deactivatedAt: device.deactivatedAt?.toISOString() ?? null,
  };
}

export interface ActivationRequest {
  publicJwk: unknown;
  name?: string | undefined;
  format?: TokenFormat | undefined;
  /** The DPoP header and the body bytes it covers. */
  proof: string | undefined;
  body: Uint8Array;
}

export interface ActivationResult {
  device: DeviceView;
  token: string;
  test: boolean;
}

/**
 * Activates a device (or re-activates it: the same key again takes no new seat and gets a
 * fresh token).
 * @throws StoreError BAD_REQUEST, DEVICE_PROOF_INVALID, LICENSE_REVOKED, PAYMENT_REQUIRED,
 *   SEATS_FULL
 */
export async function activateDevice(
  ctx: StoreContext,
  licenseId: string,
  request: ActivationRequest,
): Promise<ActivationResult> {
  const now = ctx.clock.now();
  let publicJwk: Ed25519PublicJwk;
  try {
    publicJwk = parsePublicJwk(request.publicJwk, 'device.publicJwk');
  } catch (error) {
    if (!(error instanceof LicenseKitError)) throw error;
    throw new StoreError('BAD_REQUEST', `Invalid request: ${error.message}.`);
  }
  const thumbprint = await jwkThumbprint(publicJwk);
  await checkDeviceProof(ctx.db, {
    proof: request.proof,
    method: 'POST',
    url: `${ctx.config.publicUrl}${ACTIVATE_PATH}`,
    body: request.body,
    now,
    thumbprint,
  });
  return ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    assertUsable(ctx.config, license);
    const devices = devicesRepository(tx);
    let device = await devices.activeByThumbprint(license.id, thumbprint);
    if (device) {
      device = await devices.touch(device.id, now, request.name);
    } else {
      if ((await devices.countActive(license.id)) >= license.seats) {
        throw new StoreError('SEATS_FULL');
      }
      device = await devices.insert({
        id: newId('dev'),
        licenseId: license.id,
        thumbprint,
        publicJwk: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x },
        name: request.name ?? '',
        activatedAt: now,
      });
    }
    const token = await issueLicenseToken(tx, ctx, license.id, {
      device: { id: device.id, thumbprint },
      format: request.format,
      now,
    });
    return { device: deviceView(device), token: token.token, test: license.test };
  });
}

/**
 * Frees a device's seat. Its tokens stay valid until they expire (they are offline
 * tokens), but it can no longer refresh them.
 * @throws StoreError DEVICE_NOT_FOUND
 */
export async function deactivateDevice(
  ctx: StoreContext,
  licenseId: string,
  which: { deviceId?: string | undefined; thumbprint?: string | undefined },
): Promise<DeviceDetails> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const license = await licensesRepository(tx).byId(licenseId, { forUpdate: true });
    if (!license) throw new StoreError('LICENSE_NOT_FOUND');
    const devices = devicesRepository(tx);
    const device =
      which.deviceId !== undefined
        ? await devices.activeById(license.id, which.deviceId)
        : which.thumbprint !== undefined
          ? await devices.activeByThumbprint(license.id, which.thumbprint)
          : undefined;
    if (!device) throw new StoreError('DEVICE_NOT_FOUND');
    return deviceDetails(await devices.deactivate(device.id, now));
  });
}

/** The active devices of a license (the portal's device list). */
export async function listDevices(db: Queryable, licenseId: string): Promise<DeviceDetails[]> {
  return (await devicesRepository(db).active(licenseId)).map(deviceDetails);
}
