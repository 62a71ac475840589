import type { Ed25519PublicJwk } from '@licensekit/core';
import type { Queryable } from '../db/client.js';

export interface DeviceRecord {
  id: string;
  licenseId: string;
  thumbprint: string;
  publicJwk: Ed25519PublicJwk;
  name: string;
  activatedAt: Date;
  lastSeenAt: Date | null;
  deactivatedAt: Date | null;
}

interface DeviceRow {
  id: string;
  license_id: string;
  thumbprint: string;
  public_jwk: Ed25519PublicJwk;
  name: string;
  activated_at: Date;
  last_seen_at: Date | null;
  deactivated_at: Date | null;
}

const DEVICE_COLUMNS =
  'id, license_id, thumbprint, public_jwk, name, activated_at, last_seen_at, deactivated_at';

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    licenseId: row.license_id,
    thumbprint: row.thumbprint,
    publicJwk: row.public_jwk,
    name: row.name,
    activatedAt: row.activated_at,
    lastSeenAt: row.last_seen_at,
    deactivatedAt: row.deactivated_at,
  };
}

/** Devices a license is activated on; a seat is an active (not deactivated) device. */
export function devicesRepository(db: Queryable) {
  return {
    async active(licenseId: string): Promise<DeviceRecord[]> {
      const rows = await db.query<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices WHERE license_id = $1 AND deactivated_at IS NULL
          ORDER BY activated_at, id`,
        [licenseId],
      );
      return rows.map(toDevice);
    },

    async countActive(licenseId: string): Promise<number> {
      const [row] = await db.query<{ count: number | string }>(
        'SELECT count(*)::int AS count FROM devices WHERE license_id = $1 AND deactivated_at IS NULL',
        [licenseId],
      );
      return Number(row?.count ?? 0);
    },

    async activeByThumbprint(licenseId: string, thumbprint: string) {
      const [row] = await db.query<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices
          WHERE license_id = $1 AND thumbprint = $2 AND deactivated_at IS NULL`,
        [licenseId, thumbprint],
      );
      return row ? toDevice(row) : undefined;
    },

    async activeById(licenseId: string, id: string) {
      const [row] = await db.query<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices
          WHERE license_id = $1 AND id = $2 AND deactivated_at IS NULL`,
        [licenseId, id],
      );
      return row ? toDevice(row) : undefined;
    },

    async insert(
      device: Omit<DeviceRecord, 'lastSeenAt' | 'deactivatedAt'>,
    ): Promise<DeviceRecord> {
      const [row] = await db.query<DeviceRow>(
        `INSERT INTO devices (id, license_id, thumbprint, public_jwk, name, activated_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ${DEVICE_COLUMNS}`,
        [
          device.id,
          device.licenseId,
          device.thumbprint,
          JSON.stringify(device.publicJwk),
          device.name,
          device.activatedAt,
        ],
      );
      return toDevice(row!);
    },

    async touch(id: string, at: Date, name?: string): Promise<DeviceRecord> {
      const [row] = await db.query<DeviceRow>(
        `UPDATE devices SET last_seen_at = $2, name = COALESCE($3, name) WHERE id = $1
         RETURNING ${DEVICE_COLUMNS}`,
        [id, at, name ?? null],
      );
      return toDevice(row!);
    },

    async deactivate(id: string, at: Date): Promise<DeviceRecord> {
      const [row] = await db.query<DeviceRow>(
        `UPDATE devices SET deactivated_at = $2 WHERE id = $1 RETURNING ${DEVICE_COLUMNS}`,
        [id, at],
      );
      return toDevice(row!);
    },
  };
}
