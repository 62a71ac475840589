import type { Ed25519PublicJwk, TokenFormat } from '@licensekit/core';
import { jwkThumbprint, LicenseKitError, parsePublicJwk } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { checkDeviceProof } from '../lib/device-proof.js';
import { newId } from '../lib/ids.js';
import type { DeviceRecord } from '../repositories/devices.js';
import { devicesRepository } from '../repositories/devices.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { StoreContext } from './context.js';
import { issueNext } from './refresh.js';

/**
 * Activation binds a device key to a license, one seat per active device. The device
 * proves it holds the key (a DPoP-shaped proof over this very request) and gets a token
 * bound to it (`cnf`). Seats are counted by the statement that takes one, which writes only
 * if the license row is as read (compare-and-set), so concurrent activations cannot
 * overfill them: each one's write changes the row, and the other's then counts again.
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
 * fresh token). `license` is the license as the key lookup read it (licenseByKey), or its
 * id. After the proof (its jti spent at once, whatever follows), one statement takes the
 * seat (or touches the device) and writes the token, checking the seat count as it does
 * (services/refresh.ts issueNext).
 * @throws StoreError BAD_REQUEST, DEVICE_PROOF_INVALID, LICENSE_REVOKED, PAYMENT_REQUIRED,
 *   SEATS_FULL
 */
export async function activateDevice(
  ctx: StoreContext,
  license: LicenseRecord | string,
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
  const read =
    typeof license === 'string' ? await licensesRepository(ctx.db).forIssue(license) : license;
  if (!read) throw new StoreError('LICENSE_NOT_FOUND');
  const next = await issueNext(ctx, read, {
    device: {
      kind: 'activate',
      thumbprint,
      newId: newId('dev'),
      publicJwk: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x },
      name: request.name,
    },
    format: request.format,
    now,
  });
  const device = next.write.device;
  if (!device) throw new Error(`activation of license ${read.id} wrote no device`);
  return {
    device: { id: device.id, thumbprint, name: device.name },
    token: next.issued.token,
    test: next.license.test,
  };
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
    // Locked, and its row given a new version: an issue that read the license before
    // (optimistic, services/refresh.ts issueNext) does not bind a token to this device.
    const license = await licensesRepository(tx).lockAndBump(licenseId);
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
