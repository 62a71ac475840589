import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ed25519Backend } from '@licensekit/core';
import {
  ClaimError,
  decodeDocument,
  defaultBackend,
  MalformedError,
  parsePublicJwk,
  parseRevocationClaims,
  publicKeyBytes,
  readRevocationClaims,
} from '@licensekit/core';
import type { Signer } from '@licensekit/issuer';
import { createRevocationList, createSigner, readPrivateKeyFile } from '@licensekit/issuer';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import type { StoreContext } from './context.js';
import { appendToLog, documentBytes } from './issuance-log.js';

/**
 * Revocations and the signed revocation list apps fetch from GET /v1/revocations.
 *
 * Who signs: a verifier accepts a list only from a key it trusts directly — the root key
 * apps embed (or an issuer key an app trusts directly), never an issuer key that is
 * merely certified. So the store signs lists with the ROOT key when it has one
 * (dataDir/keys/root.json: the dev set-up generated on first start). In production the
 * root key stays offline: there the operator makes each list with `licensekit revoke`
 * and publishes it through POST /v1/admin/revocation-lists; the store then serves the
 * newest published list. Either way `seq` only grows (revocation_lists.seq).
 */

export type RevocationKind = 'key' | 'license' | 'token';

export interface Revocation {
  kind: RevocationKind;
  value: string;
  reason: string;
  createdAt: Date;
}

export interface RevocationListRecord {
  seq: number;
  token: string;
  source: 'store' | 'published';
  createdAt: Date;
}

// Serialises list generation across instances (an arbitrary constant, like migrations').
const LIST_LOCK = 424243;

/** The root signing key from dataDir/keys/root.json, or undefined when it is kept offline. */
export async function loadRootSigner(dataDir: string): Promise<Signer | undefined> {
  const path = join(dataDir, 'keys', 'root.json');
  try {
    await access(path);
  } catch {
    return undefined;
  }
  return createSigner(await readPrivateKeyFile(path));
}

/** Checks a value against the list's claim rules (kid digest, license id, jti). */
function checkValue(kind: RevocationKind, value: string): void {
  const member = kind === 'key' ? 'keys' : kind === 'license' ? 'licenses' : 'tokens';
  try {
    parseRevocationClaims({ iss: 'check', iat: 0, seq: 0, [member]: [value] });
  } catch (error) {
    if (error instanceof ClaimError) {
      const expected =
        kind === 'key'
          ? 'a key id (RFC 7638 thumbprint, 43 base64url characters)'
          : kind === 'license'
            ? 'a license id'
            : 'a token id (jti)';
      throw new StoreError('BAD_REQUEST', `The value must be ${expected}.`);
    }
    throw error;
  }
}

interface ListRow {
  seq: number;
  token: string;
  source: 'store' | 'published';
  created_at: Date;
}

function toRecord(row: ListRow): RevocationListRecord {
  return { seq: Number(row.seq), token: row.token, source: row.source, createdAt: row.created_at };
}

async function newestList(db: Queryable): Promise<RevocationListRecord | undefined> {
  const [row] = await db.query<ListRow>(
    'SELECT seq, token, source, created_at FROM revocation_lists ORDER BY seq DESC LIMIT 1',
  );
  return row ? toRecord(row) : undefined;
}

export function revocationsService(
  context: Pick<StoreContext, 'db' | 'config' | 'clock' | 'keys'>,
  rootSigner: Signer | undefined,
) {
  const { db, config, clock, keys } = context;
  const settings = config.operations.revocations;

  /** Signs a complete list of every revocation in force, as the next seq (in `tx`, locked). */
  async function signList(tx: Queryable): Promise<RevocationListRecord | undefined> {
    if (!rootSigner) return undefined;
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LIST_LOCK]);
    const entries = await tx.query<{ kind: RevocationKind; value: string }>(
      'SELECT kind, value FROM revocations ORDER BY kind, value',
    );
    const pick = (kind: RevocationKind) =>
      entries.filter((e) => e.kind === kind).map((e) => e.value);
    const [last] = await tx.query<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM revocation_lists',
    );
    const seq = Number(last?.seq ?? 0) + 1;
    const now = clock.now();
    const token = await createRevocationList({
      signer: rootSigner,
      vendor: keys.vendor,
      seq,
      now: seconds(now),
      next: seconds(now) + settings.nextSeconds,
      keys: pick('key'),
      licenses: pick('license'),
      tokens: pick('token'),
    });
    await tx.query(
      `INSERT INTO revocation_lists (seq, token, source, created_at) VALUES ($1, $2, 'store', $3)`,
      [seq, token, now],
    );
    await appendToLog(tx, 'revocations', documentBytes(token), now);
    return { seq, token, source: 'store', createdAt: now };
  }

  /**
   * Revoking a key the store signs with would leave it issuing tokens every verifier
   * refuses (revoked), to every customer of the store or of that vendor: rotate first, then
   * revoke the old key. The store's own issuer: a new issuer.json and certificate in
   * dataDir/keys, then restart. A vendor's: its directory dataDir/keys/vendors/<vendor>
   * moved aside, then restart; the store makes the vendor a new key at its next token.
   */
  async function refuseSigningKeys(kids: readonly string[]): Promise<void> {
    if (kids.includes(keys.issuer.kid)) {
      throw new StoreError(
        'CONFLICT',
        `Key ${keys.issuer.kid} is the store's current issuer key: every token it signs would be refused as revoked. Rotate the issuer key first (a new issuer.json and certificate in the data directory, then restart), then revoke the old one.`,
      );
    }
    for (const vendorIssuer of (await keys.vendorKeys?.published()) ?? []) {
      if (!kids.includes(vendorIssuer.key.kid)) continue;
      throw new StoreError(
        'CONFLICT',
        `Key ${vendorIssuer.key.kid} is the current issuer key of vendor ${vendorIssuer.vendor}: every token the store signs for that vendor would be refused as revoked. Rotate it first (move the directory keys/vendors/${vendorIssuer.vendor} of the data directory aside, then restart: the store makes the vendor a new key at its next token), then revoke the old one.`,
      );
    }
  }

  return {
    /** Whether this store signs its own lists (it has the root key). */
    signs: rootSigner !== undefined,

    /**
     * Records a revocation (idempotent) and, in the same transaction, signs the list that
     * includes it: when the commit returns, GET /v1/revocations already serves it.
     * `tx` lets a caller revoke inside its own transaction (license revocation).
     */
    async revoke(
      entry: { kind: RevocationKind; value: string; reason?: string | undefined },
      tx?: Queryable,
    ): Promise<{ created: boolean; list: RevocationListRecord | undefined }> {
      checkValue(entry.kind, entry.value);
      if (entry.kind === 'key' && rootSigner && entry.value === rootSigner.kid) {
        throw new StoreError(
          'CONFLICT',
          'The root key cannot revoke itself; rotate the root key and ship a new app build.',
        );
      }
      if (entry.kind === 'key') await refuseSigningKeys([entry.value]);
      const work = async (q: Queryable) => {
        const inserted = await q.query(
          `INSERT INTO revocations (kind, value, reason, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (kind, value) DO NOTHING RETURNING kind`,
          [entry.kind, entry.value, entry.reason ?? '', clock.now()],
        );
        const list = inserted.length > 0 ? await signList(q) : undefined;
        return { created: inserted.length > 0, list };
      };
      return tx ? work(tx) : db.transaction(work);
    },

    async list(): Promise<Revocation[]> {
      const rows = await db.query<{
        kind: RevocationKind;
        value: string;
        reason: string;
        created_at: Date;
      }>(
        'SELECT kind, value, reason, created_at FROM revocations ORDER BY created_at, kind, value',
      );
      return rows.map((r) => ({
        kind: r.kind,
        value: r.value,
        reason: r.reason,
        createdAt: r.created_at,
      }));
    },

    /**
     * The list to serve: the newest one, re-signed first when this store signs and the
     * newest is missing or older than maxAgeSeconds (half of `next`, so apps never see a
     * stale list while the store runs).
     */
    async current(): Promise<RevocationListRecord | undefined> {
      const newest = await newestList(db);
      const fresh = (list: RevocationListRecord | undefined) =>
        list !== undefined &&
        (list.source === 'published' ||
          clock.now().getTime() - list.createdAt.getTime() < settings.maxAgeSeconds * 1000);
      if (!rootSigner || fresh(newest)) return newest;
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [LIST_LOCK]);
        const again = await newestList(tx);
        // Another instance may have signed one while this one waited for the lock.
        if (fresh(again)) return again;
        return signList(tx);
      });
    },

    /**
     * Publishes a list signed elsewhere (licensekit revoke, with the offline root key):
     * it must verify against the store's root public key and have a higher seq than
     * every list before it.
     */
    async publish(token: string): Promise<RevocationListRecord> {
      const invalid = (why: string) => new StoreError('REVOCATION_LIST_INVALID', why);
      let seq: number;
      try {
        const document = decodeDocument(token, 'revocations');
        const claims = readRevocationClaims(document);
        const root = parsePublicJwk(keys.rootPublicJwk, 'root key');
        if (document.kid !== keys.rootPublicJwk.kid)
          throw invalid('The list is not signed by the root key.');
        const backend: Ed25519Backend = await defaultBackend();
        const ok = await backend.verify(
          await backend.importPublicKey(publicKeyBytes(root)),
          document.signingInput,
          document.signature,
        );
        if (!ok) throw invalid('The signature of the list does not verify.');
        if (claims.iss !== keys.vendor) throw invalid('The list is for another vendor.');
        await refuseSigningKeys(claims.keys ?? []);
        seq = claims.seq;
      } catch (error) {
        if (error instanceof MalformedError || error instanceof ClaimError)
          throw invalid('The revocation list cannot be decoded.');
        throw error;
      }
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [LIST_LOCK]);
        const newest = await newestList(tx);
        if (newest && newest.seq >= seq)
          throw invalid(`The list's seq must be above ${newest.seq}.`);
        const now = clock.now();
        await tx.query(
          `INSERT INTO revocation_lists (seq, token, source, created_at) VALUES ($1, $2, 'published', $3)`,
          [seq, token, now],
        );
        await appendToLog(tx, 'revocations', documentBytes(token), now);
        return { seq, token, source: 'published' as const, createdAt: now };
      });
    },
  };
}

export type RevocationsService = ReturnType<typeof revocationsService>;

/**
 * Revokes a license: status 'revoked' (refresh answers 403) and a 'license' entry in the
 * next list. A license id the database does not know (issued offline) is only listed.
 */
export async function revokeLicense(
  db: Db,
  revocations: RevocationsService,
  licenseId: string,
  reason: string,
  now: Date,
): Promise<{ found: boolean; created: boolean }> {
  return db.transaction(async (tx) => {
    const updated = await tx.query(
      `UPDATE licenses SET status = 'revoked', revoked_at = coalesce(revoked_at, $2), updated_at = $2
        WHERE id = $1 RETURNING id`,
      [licenseId, now],
    );
    const { created } = await revocations.revoke({ kind: 'license', value: licenseId, reason }, tx);
    return { found: updated.length > 0, created };
  });
}
