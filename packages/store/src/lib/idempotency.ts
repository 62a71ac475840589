import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { idempotencyRepository } from '../repositories/idempotency.js';
import type { Secrets } from './secrets.js';
import { sha256 } from './secrets.js';

/**
 * Idempotent requests (`Idempotency-Key`, draft-ietf-httpapi-idempotency-key-header).
 *
 * The key is claimed and the work done in ONE transaction: the claim is an insert into
 * idempotency_keys, which in PostgreSQL waits while another transaction holds the same
 * key, so concurrent duplicates run one after the other: the first does the work, the
 * rest find its committed response and replay it (same status, same body). PGlite runs
 * transactions one at a time, which gives the same outcome. A request whose work fails
 * rolls back its claim, so it may be retried with the same key.
 *
 * The saved response holds a license key, so it is stored encrypted (AES-256-GCM) under a
 * key derived from the store secret and the Idempotency-Key itself, which the database
 * holds only as a keyed hash: a copy of the database cannot read it back.
 */
export interface IdempotentResult<T> {
  statusCode: number;
  body: T;
  /** True when this is a replay of a response saved by an earlier request. */
  replayed: boolean;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const HASH_DOMAIN = 'idempotency-key';
const CIPHER_DOMAIN = 'idempotency';
/** How long a key is remembered; the billing cycle prunes older ones. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

/** JSON with object members in a fixed order, so equal requests hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function seal(key: Buffer, aad: string, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

function open(key: Buffer, aad: string, sealed: Uint8Array): string {
  const bytes = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([
    decipher.update(bytes.subarray(12, bytes.length - 16)),
    decipher.final(),
  ]).toString('utf8');
}

/**
 * Runs `work` once per (scope, Idempotency-Key) and replays its response afterwards.
 * `request` is what makes two requests "the same" (method, path, body): the same key with
 * a different request is 409 IDEMPOTENCY_CONFLICT.
 * @throws StoreError IDEMPOTENCY_KEY_REQUIRED, BAD_REQUEST, IDEMPOTENCY_CONFLICT, or
 *   whatever `work` throws
 */
export async function idempotent<T>(
  db: Db,
  secrets: Secrets,
  options: { scope: string; key: string | undefined; request: unknown; now: Date },
  work: (tx: Queryable) => Promise<{ statusCode: number; body: T }>,
): Promise<IdempotentResult<T>> {
  const { scope, key, now } = options;
  if (key === undefined || key === '') throw new StoreError('IDEMPOTENCY_KEY_REQUIRED');
  if (!KEY_PATTERN.test(key)) {
    throw new StoreError(
      'BAD_REQUEST',
      'The Idempotency-Key must be 1 to 255 visible ASCII characters.',
    );
  }
  const keyHash = secrets.keyedHash(HASH_DOMAIN, key);
  const requestHash = sha256(canonicalJson(options.request));
  const aad = `${scope}\u0000${keyHash}`;
  return db.transaction(async (tx) => {
    const keys = idempotencyRepository(tx);
    if (!(await keys.claim(scope, keyHash, requestHash, now))) {
      const saved = await keys.get(scope, keyHash);
      if (!saved || saved.requestHash !== requestHash || saved.response === null) {
        throw new StoreError('IDEMPOTENCY_CONFLICT');
      }
      const body = JSON.parse(open(secrets.deriveKey(CIPHER_DOMAIN, key), aad, saved.response));
      return { statusCode: saved.statusCode ?? 200, body: body as T, replayed: true };
    }
    const result = await work(tx);
    await keys.saveResponse(
      scope,
      keyHash,
      result.statusCode,
      seal(secrets.deriveKey(CIPHER_DOMAIN, key), aad, JSON.stringify(result.body)),
    );
    return { ...result, replayed: false };
  });
}
