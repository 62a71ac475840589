import { randomBytes } from 'node:crypto';
import type { LicenseClaimsInput, PendingChange, QuotaSpec, TokenFormat } from '@licensekit/core';
import { base64urlEncode, tokenHash } from '@licensekit/core';
import { logEntryHash } from '@licensekit/core/log';
import { issue } from '@licensekit/issuer';
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import type { IssuerKeys } from '../lib/vendor-keys.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import { planCacheOf } from '../repositories/plan-cache.js';
import type { DeviceTarget, TokenWriteResult } from '../repositories/tokens.js';
import { tokenBytes, writeToken } from '../repositories/tokens.js';
import type { Plan } from '../schemas/catalogue.js';
import type { StoreContext } from './context.js';
import { appendToLog, documentBytes } from './issuance-log.js';
import { assertUsable, checkoutUrl } from './licensing.js';

/**
 * Token issuing: every token the store hands out is built here from the store's own
 * records (license, plan, device), never from a token a client sent, and recorded in the
 * issuance log (tokens) as the next link of the license's lineage.
 */

/** Tokens ask to be refreshed after at most this long (`rfa`), seconds. */
export const REFRESH_AFTER_SECONDS = 86_400;
const DAY_SECONDS = 86_400;

export interface TokenOptions {
  /** Bind the token to this device (`cnf`). */
  device?: { id: string; thumbprint: string } | undefined;
  /** Default `cwt`. */
  format?: TokenFormat | undefined;
  now: Date;
  /**
   * The license as the caller already locked (FOR UPDATE) and read it in this
   * transaction, unchanged since: saves a second read on the refresh path. Omit it
   * whenever the caller has changed the license.
   */
  locked?: LicenseRecord | undefined;
}

export interface IssuedToken {
  token: string;
  jti: string;
  seq: number;
  hash: string;
  format: TokenFormat;
  expiresAt: Date | null;
  /** The license was bought through the test provider. */
  test: boolean;
}

/**
 * The claims of the next token of a license (DESIGN.md "Claims"), from its records:
 * - exp: the end of the paid period (the trial end while trialing); absent for lifetime
 *   plans; never after the issuer certificate ends;
 * - rfa: min(now + 1 day, exp, certificate end), so perpetual licenses still refresh;
 * - grace: the plan's grace days in seconds (with an exp);
 * - quota: the plan's quotas plus `seats` = the license's seat count; anchor: the
 *   license's billing anchor when a quota resets per period;
 * - chg: the pending change and when it takes effect; cnf: the bound device;
 * - seq = license.seq + 1, prev = hash of the license's last token.
 */
export function licenseClaims(
  license: LicenseRecord,
  plan: Plan,
  options: {
    vendor: string;
    certificateExpiresAt: number;
    now: Date;
    thumbprint?: string | undefined;
  },
): LicenseClaimsInput {
  const now = seconds(options.now);
  const certificateEnd = options.certificateExpiresAt;
  const end =
    license.status === 'trialing' ? (license.trialEnd ?? license.periodEnd) : license.periodEnd;
  const exp = end === null ? undefined : Math.min(seconds(end), certificateEnd);
  const quota: Record<string, QuotaSpec> = { ...plan.quotas, seats: { limit: license.seats } };
  const seq = license.seq + 1;
  const claims: LicenseClaimsInput = {
    iss: options.vendor,
    sub: license.id,
    aud: license.productId,
    iat: now,
    nbf: now,
    jti: base64urlEncode(randomBytes(16)),
    plan: license.planId,
    access: license.status === 'trialing' ? 'trial' : 'full',
    ent: [...plan.entitlements],
    quota,
    rfa: Math.min(now + REFRESH_AFTER_SECONDS, exp ?? certificateEnd, certificateEnd),
    seq,
  };
  if (exp !== undefined) {
    claims.exp = exp;
    if (plan.graceDays > 0) claims.grace = plan.graceDays * DAY_SECONDS;
  }
  // Counted quotas (not seats, not unlimited) count from the anchor — per period, or over
  // the license's life — so every token of the license must name the same one.
  const counted = Object.entries(plan.quotas).some(
    ([name, spec]) => name !== 'seats' && !('unlimited' in spec),
  );
  if (counted) claims.anchor = seconds(license.anchor);
  if (seq > 0 && license.lastTokenHash !== null) claims.prev = license.lastTokenHash;
  if (options.thumbprint !== undefined) claims.cnf = { jkt: options.thumbprint };
  if (license.pendingChange !== null) {
    const change: PendingChange = {
      kind: license.pendingChange.kind,
      at: seconds(new Date(license.pendingChange.at)),
    };
    if (license.pendingChange.plan !== undefined) change.plan = license.pendingChange.plan;
    if (license.pendingChange.seats !== undefined) change.seats = license.pendingChange.seats;
    claims.chg = change;
  }
  return claims;
}

/** A token signed for a license as read, not yet written. */
export interface SignedToken {
  claims: LicenseClaimsInput;
  token: string;
  hash: string;
  /** The leaf hash of the token's issuance-log entry (RFC 9162), queued with it. */
  leafHash: Uint8Array;
  seq: number;
  format: TokenFormat;
  expiresAt: Date | null;
}

/**
 * Signs the next token of `license` on `plan`, as read (nothing is written).
 * @throws StoreError PAYMENT_REQUIRED when the paid period has ended and no billing step
 *   renewed it; SERVICE_UNAVAILABLE when the issuer certificate has ended
 */
export async function signNextToken(
  ctx: StoreContext,
  license: LicenseRecord,
  plan: Plan,
  options: {
    format?: TokenFormat | undefined;
    now: Date;
    thumbprint?: string | undefined;
    /** The caller's transaction, if any (a vendor's certificate is logged in it). */
    db?: Queryable | undefined;
  },
): Promise<SignedToken> {
  const now = seconds(options.now);
  const keys = await issuerKeysFor(options.db ?? ctx.db, ctx, license, options.now);
  if (keys.certificateExpiresAt <= now) {
    ctx.log.error(
      { vendor: keys.vendor },
      'the issuer certificate has ended: no token can be signed',
    );
    throw new StoreError('SERVICE_UNAVAILABLE', 'The store cannot sign tokens at the moment.');
  }
  const claims = licenseClaims(license, plan, {
    vendor: keys.vendor,
    certificateExpiresAt: keys.certificateExpiresAt,
    now: options.now,
    thumbprint: options.thumbprint,
  });
  if (claims.exp !== undefined && claims.exp <= now) {
    // The period has ended and no billing step has renewed it: nothing to sign.
    throw new StoreError('PAYMENT_REQUIRED', undefined, {
      checkoutUrl: checkoutUrl(ctx.config, license),
    });
  }
  const format = options.format ?? 'cwt';
  const token = await issue(claims, {
    signer: keys.issuer,
    certificate: keys.certificates[format],
    format,
    now,
  });
  // The token's own bytes (the JWT's ASCII, the CWT's COSE bytes): no need to decode it.
  const bytes = tokenBytes(token, format);
  // Its log entry's leaf hash too, here on the issuing side: the sequencer, which every
  // request waits behind on PGlite, then neither reads the token back nor hashes it.
  const [hash, leafHash] = await Promise.all([tokenHash(bytes), logEntryHash('license', bytes)]);
  return {
    claims,
    token,
    hash,
    leafHash,
    seq: claims.seq ?? 0,
    format,
    expiresAt: claims.exp === undefined ? null : new Date(claims.exp * 1000),
  };
}

/**
 * Who signs a token of a product: `iss` is the vendor selling it (products.vendor_id, or
 * the store's own vendor), and the key is that vendor's issuer, certified by the store's
 * root for that vendor's products only (lib/vendor-keys.ts). The store's own vendor signs
 * with the store's issuer key, as a single-vendor store always has.
 */
async function issuerKeysFor(
  db: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  now: Date,
): Promise<IssuerKeys> {
  const ring = ctx.keys.vendorKeys;
  if (!ring) return ctx.keys;
  // Read with the license for issuing (refresh, activate): current, and no statement of
  // its own. Other reads ask the ring, which keeps it for a minute.
  const vendor =
    license.productVendor !== undefined
      ? (license.productVendor ?? ctx.config.vendor)
      : await ring.vendorOf(db, license.productId);
  const productId = license.productId;
  if (vendor === ctx.config.vendor) return ctx.keys;
  return ring.issuerFor(db, vendor, productId, seconds(now), async (certificate) => {
    ctx.log.info({ vendor }, 'vendor issuer certificate made');
    // In the issuing transaction: the certificate is in the log if the token is.
    await appendToLog(db, 'certificate', documentBytes(certificate), now);
  });
}

/** The plan of a license, from the store's plan cache when its version is known and current. */
export async function planForIssue(
  db: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
): Promise<Plan> {
  const plan = await planCacheOf(ctx.db).get(
    db,
    license.productId,
    license.planId,
    license.planVersion,
  );
  if (!plan) throw new StoreError('PLAN_NOT_FOUND');
  return plan;
}

export interface IssueAttempt {
  /** The token, when written; undefined when the write's conditions did not hold. */
  issued: IssuedToken | undefined;
  write: TokenWriteResult;
}

/**
 * Signs the next token of `license` as read and writes it with the new lineage head in
 * one statement (repositories/tokens.ts writeToken). With `expectedVersion` (no lock held)
 * the write happens only if the license row is still the one read; the caller retries on
 * a new read otherwise. The license must be usable (assertUsable) and up to date.
 */
export async function signAndWrite(
  db: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  options: {
    device: DeviceTarget;
    format?: TokenFormat | undefined;
    now: Date;
    expectedVersion?: string | undefined;
  },
): Promise<IssueAttempt> {
  const plan = await planForIssue(db, ctx, license);
  const { device } = options;
  const signed = await signNextToken(ctx, license, plan, {
    db,
    format: options.format,
    now: options.now,
    thumbprint: device.kind === 'unbound' ? undefined : device.thumbprint,
  });
  const write = await writeToken(db, {
    token: {
      jti: signed.claims.jti!,
      licenseId: license.id,
      seq: signed.seq,
      hash: signed.hash,
      prev: signed.claims.prev ?? null,
      format: signed.format,
      token: signed.token,
      issuedAt: options.now,
      expiresAt: signed.expiresAt,
    },
    device,
    expectedVersion: options.expectedVersion,
    // Queued for the issuance log by the same statement: logged if and only if it commits.
    log: ctx.config.log.append && { leafHash: signed.leafHash },
  });
  if (!write.issued) return { issued: undefined, write };
  return {
    issued: {
      token: signed.token,
      jti: signed.claims.jti!,
      seq: signed.seq,
      hash: signed.hash,
      format: signed.format,
      expiresAt: signed.expiresAt,
      test: license.test,
    },
    write,
  };
}

/**
 * Signs and records the next token of a license, in the caller's transaction. The license
 * row is (re)locked FOR UPDATE here, so two refreshes of one license never read the same
 * seq: the second waits for the first to commit and then builds on its token.
 * @throws StoreError LICENSE_REVOKED / PAYMENT_REQUIRED when the license may not get a
 *   token; SERVICE_UNAVAILABLE when the issuer certificate has ended
 */
export async function issueLicenseToken(
  tx: Queryable,
  ctx: StoreContext,
  licenseId: string,
  options: TokenOptions,
): Promise<IssuedToken> {
  const license =
    options.locked?.id === licenseId
      ? options.locked
      : await licensesRepository(tx).byId(licenseId, { forUpdate: true });
  if (!license) throw new StoreError('LICENSE_NOT_FOUND');
  assertUsable(ctx.config, license);
  const { issued } = await signAndWrite(tx, ctx, license, {
    device: options.device ? { kind: 'given', ...options.device } : { kind: 'unbound' },
    format: options.format,
    now: options.now,
  });
  // Under the lock, with no condition on the write: it always writes.
  if (!issued) throw new Error(`the token of license ${license.id} was not written`);
  return issued;
}
