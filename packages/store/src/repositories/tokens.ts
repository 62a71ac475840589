import type { Ed25519PublicJwk, TokenFormat } from '@licensekit/core';
import { base64urlDecode, utf8Encode } from '@licensekit/core';
import { LOG_ENTRY_TAG } from '@licensekit/core/log';
import type { Queryable } from '../db/client.js';

/** A token the store issued: the issuance record of every lineage. */
export interface TokenRecord {
  jti: string;
  licenseId: string;
  seq: number;
  deviceId: string | null;
  hash: string;
  prev: string | null;
  format: TokenFormat;
  token: string;
  issuedAt: Date;
  expiresAt: Date | null;
}

interface TokenRow {
  jti: string;
  license_id: string;
  seq: number;
  device_id: string | null;
  hash: string;
  prev: string | null;
  format: TokenFormat;
  token: string;
  issued_at: Date;
  expires_at: Date | null;
}

const TOKEN_COLUMNS =
  'jti, license_id, seq, device_id, hash, prev, format, token, issued_at, expires_at';

function toToken(row: TokenRow): TokenRecord {
  return {
    jti: row.jti,
    licenseId: row.license_id,
    seq: row.seq,
    deviceId: row.device_id,
    hash: row.hash,
    prev: row.prev,
    format: row.format,
    token: row.token,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
  };
}

/** Reads of tokens; they are written by {@link writeToken}, with the lineage head. */
export function tokensRepository(db: Queryable) {
  return {
    /** The newest token of the license that is bound to no device. */
    async latestUnbound(licenseId: string): Promise<TokenRecord | undefined> {
      const [row] = await db.query<TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE license_id = $1 AND device_id IS NULL
          ORDER BY seq DESC LIMIT 1`,
        [licenseId],
      );
      return row ? toToken(row) : undefined;
    },
  };
}

/**
 * The device a token is issued for, and what the write checks of it:
 * - unbound: none;
 * - given: this device, vouched for by a caller that holds the license's lock;
 * - active: the license's active device with this key (and this id, when given) — it must
 *   still be active when the token is written, and its last_seen_at is set;
 * - activate: that device when active (touched, renamed when a name is given), else a new
 *   one, if a seat is free: active devices < the license's seats.
 */
export type DeviceTarget =
  | { kind: 'unbound' }
  | { kind: 'given'; id: string; thumbprint: string }
  | { kind: 'active'; thumbprint: string; id?: string | undefined }
  | {
      kind: 'activate';
      thumbprint: string;
      newId: string;
      publicJwk: Ed25519PublicJwk;
      name?: string | undefined;
    };

/** A token's bytes from its row: the JWT's ASCII, the CWT's COSE bytes. */
export function tokenBytes(token: string, format: string): Uint8Array {
  return format === 'jwt' ? utf8Encode(token) : base64urlDecode(token);
}

export interface TokenWrite {
  /** The token's row; deviceId is decided by `device` (ignored here). */
  token: Omit<TokenRecord, 'deviceId'>;
  device: DeviceTarget;
  /**
   * Write only if the license row still has this version (an optimistic issue, no lock
   * held); undefined when the caller holds the license's lock.
   */
  expectedVersion?: string | undefined;
  /**
   * Queue the token for the issuance log, with the leaf hash of its log entry (core's
   * logEntryHash): the entry refers to the token's row for its
   * bytes (migration 0017).
   * false: not logged (only `pnpm bench store`'s baseline).
   */
  log: { leafHash: Uint8Array } | false;
}

export interface TokenWriteResult {
  /** The token and the new lineage head are written (false: nothing was). */
  issued: boolean;
  /** The license row's version as the statement found it (before its own write). */
  version: string | null;
  /** The device the token is bound to: the active one found, or the one activated. */
  device: { id: string; name: string; added: boolean } | null;
  /** Active devices as the statement found them (activate only). */
  activeDevices: number | null;
}

/**
 * One statement that writes a token and moves the license's lineage head (seq, last token
 * hash) together, with what its device needs (checked active, touched, or activated under
 * the seat limit) and the token queued for the issuance log: all or nothing, as any single
 * statement. With `expectedVersion` the head moves only from that version of the row, so a
 * token signed from a stale read is never written: concurrent issues, changes of terms, a
 * device deactivated meanwhile all give the row a new version (compare-and-set).
 */
export function tokenWriteStatement(write: TokenWrite): { sql: string; params: unknown[] } {
  const { token, device } = write;
  const params: unknown[] = [
    token.licenseId,
    token.seq,
    token.hash,
    token.jti,
    token.prev,
    token.format,
    token.token,
    token.issuedAt,
    token.expiresAt,
  ];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const ctes: string[] = [];
  const conditions: string[] = [];
  const outputs = ['(SELECT count(*)::int FROM tok) AS issued'];
  let deviceId = 'NULL::text';
  if (write.expectedVersion !== undefined) {
    conditions.push(`xmin = ${param(write.expectedVersion)}::text::xid`);
  }
  if (device.kind === 'given') {
    deviceId = `${param(device.id)}::text`;
  } else if (device.kind === 'active' || device.kind === 'activate') {
    const byId = device.kind === 'active' && device.id !== undefined;
    ctes.push(
      `dev AS (SELECT id, name FROM devices WHERE license_id = $1 AND thumbprint = ${param(device.thumbprint)}::text
                AND deactivated_at IS NULL${byId ? ` AND id = ${param(device.id)}::text` : ''})`,
    );
    outputs.push('(SELECT id FROM dev) AS device_id', '(SELECT name FROM dev) AS device_name');
  }
  if (device.kind === 'active') {
    conditions.push('EXISTS (SELECT 1 FROM dev)');
    deviceId = '(SELECT id FROM dev)';
  }
  let name = '';
  if (device.kind === 'activate') {
    ctes.push(
      'seats AS (SELECT count(*)::int AS n FROM devices WHERE license_id = $1 AND deactivated_at IS NULL)',
    );
    conditions.push('(EXISTS (SELECT 1 FROM dev) OR (SELECT n FROM seats) < licenses.seats)');
    outputs.push('(SELECT n FROM seats) AS active_devices');
    name = param(device.name ?? null);
    const newId = param(device.newId);
    deviceId = `COALESCE((SELECT id FROM dev), ${newId}::text)`;
    ctes.push(
      `head AS (UPDATE licenses SET seq = $2, last_token_hash = $3
                 WHERE ${['id = $1', ...conditions].join(' AND ')} RETURNING id)`,
      `added AS (INSERT INTO devices (id, license_id, thumbprint, public_jwk, name, activated_at, last_seen_at)
                 SELECT ${newId}::text, id, ${param(device.thumbprint)}::text, ${param(JSON.stringify(device.publicJwk))}::jsonb,
                        COALESCE(${name}::text, ''), $8::timestamptz, $8::timestamptz
                   FROM head WHERE NOT EXISTS (SELECT 1 FROM dev))`,
    );
  } else {
    ctes.push(
      `head AS (UPDATE licenses SET seq = $2, last_token_hash = $3
                 WHERE ${['id = $1', ...conditions].join(' AND ')} RETURNING id)`,
    );
  }
  if (device.kind === 'active' || device.kind === 'activate') {
    const rename = device.kind === 'activate' ? `, name = COALESCE(${name}::text, name)` : '';
    ctes.push(
      `touched AS (UPDATE devices SET last_seen_at = $8::timestamptz${rename}
                    WHERE id = (SELECT id FROM dev) AND EXISTS (SELECT 1 FROM head))`,
    );
  }
  ctes.push(
    `tok AS (INSERT INTO tokens (${TOKEN_COLUMNS})
             SELECT $4::text, id, $2::int, ${deviceId}, $3::text, $5::text, $6::text, $7::text,
                    $8::timestamptz, $9::timestamptz
               FROM head RETURNING hash)`,
  );
  if (write.log) {
    // The hash and the leaf hash only: the token's bytes are its row (migrations 0008, 0017).
    ctes.push(
      `logged AS (INSERT INTO log_pending (kind, document_hash, leaf_hash, queued_at)
                  SELECT ${LOG_ENTRY_TAG.license}, hash, ${param(write.log.leafHash)}::bytea, $8::timestamptz FROM tok)`,
    );
  }
  outputs.push('(SELECT xmin::text FROM licenses WHERE id = $1) AS version');
  return { sql: `WITH ${ctes.join(',\n')}\nSELECT ${outputs.join(', ')}`, params };
}

interface TokenWriteRow {
  issued: number;
  version: string | null;
  device_id?: string | null;
  device_name?: string | null;
  active_devices?: number | null;
}

/** Runs {@link tokenWriteStatement}. */
export async function writeToken(db: Queryable, write: TokenWrite): Promise<TokenWriteResult> {
  const { sql, params } = tokenWriteStatement(write);
  const [row] = await db.query<TokenWriteRow>(sql, params);
  if (!row) throw new Error('the token write answered no row');
  const issued = Number(row.issued) === 1;
  const { device } = write;
  let bound: TokenWriteResult['device'] = null;
  if (device.kind === 'given') {
    bound = { id: device.id, name: '', added: false };
  } else if (row.device_id != null) {
    const renamed = device.kind === 'activate' ? device.name : undefined;
    bound = { id: row.device_id, name: renamed ?? row.device_name ?? '', added: false };
  } else if (device.kind === 'activate' && issued) {
    bound = { id: device.newId, name: device.name ?? '', added: true };
  }
  return {
    issued,
    version: row.version,
    device: bound,
    activeDevices: row.active_devices == null ? null : Number(row.active_devices),
  };
}
