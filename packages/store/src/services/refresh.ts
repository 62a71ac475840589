import type { TokenFormat } from '@licensekit/core';
import { decodeDocument, LicenseKitError, readLicenseClaims, tokenHash } from '@licensekit/core';
import type { Verifier } from '@licensekit/verifier';
import { createVerifier, REFRESH_PATH } from '@licensekit/verifier';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import { checkDeviceProof } from '../lib/device-proof.js';
import type { StoreKeys } from '../lib/keys.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { DeviceTarget, TokenWriteResult } from '../repositories/tokens.js';
import { tokensRepository } from '../repositories/tokens.js';
import { lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import { assertUsable, isRevoked, owesBillingStep } from './licensing.js';
import type { IssuedToken } from './tokens.js';
import { issueLicenseToken, signAndWrite } from './tokens.js';

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
  // One statement: the token's record, its license and the device it is bound to.
  const found = await licensesRepository(ctx.db).byTokenHash(hash);
  if (!found) throw new StoreError('TOKEN_INVALID');
  const { license, device } = found;
  const result = await verifierFor(ctx, license.productId).verify(request.token);
  if (SIGNATURE_FAILURES.has(result.status) || result.claims?.sub !== license.id) {
    throw new StoreError('TOKEN_INVALID');
  }
  if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
  // A token revoked on its own (its jti listed: leaked, say) must not be traded for a new
  // token, whose new jti no list names: that would undo the revocation. The license is
  // not revoked, so its key (or another of its tokens) still refreshes.
  if (found.tokenRevoked) {
    throw new StoreError(
      'LICENSE_REVOKED',
      'This token has been revoked: refresh with the license key instead.',
    );
  }

  let target: DeviceTarget = { kind: 'unbound' };
  if (device !== null) {
    if (!device.active || device.thumbprint === null) throw new StoreError('DEVICE_NOT_FOUND');
    await checkDeviceProof(ctx.db, {
      proof: request.proof,
      method: 'POST',
      url: `${ctx.config.publicUrl}${REFRESH_PATH}`,
      body: request.body,
      now,
      thumbprint: device.thumbprint,
    });
    target = { kind: 'active', id: device.id, thumbprint: device.thumbprint };
  }
  const { issued } = await issueNext(ctx, license, {
    device: target,
    format: request.format ?? format,
    now,
  });
  return issued;
}

export interface KeyRefresh {
  /** The device to bind to; a proof by its key is then required. */
  thumbprint?: string | undefined;
  format?: TokenFormat | undefined;
  proof: string | undefined;
  body: Uint8Array;
}

/**
 * `license` as the key lookup read it (licenseByKey: with its version and its plan's, so
 * that an unbound refresh is that lookup and one write).
 * @throws StoreError DEVICE_PROOF_INVALID, DEVICE_NOT_FOUND, LICENSE_REVOKED, PAYMENT_REQUIRED
 */
export async function refreshWithKey(
  ctx: StoreContext,
  license: LicenseRecord,
  request: KeyRefresh,
): Promise<IssuedToken> {
  const now = ctx.clock.now();
  if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
  let target: DeviceTarget = { kind: 'unbound' };
  if (request.thumbprint !== undefined || (request.proof !== undefined && request.proof !== '')) {
    const proof = await checkDeviceProof(ctx.db, {
      proof: request.proof,
      method: 'POST',
      url: `${ctx.config.publicUrl}${REFRESH_PATH}`,
      body: request.body,
      now,
      thumbprint: request.thumbprint,
    });
    // Found (and checked active) by the write itself.
    target = { kind: 'active', thumbprint: proof.thumbprint };
  }
  const { issued } = await issueNext(ctx, license, { device: target, format: request.format, now });
  return issued;
}

/** Optimistic attempts before an issue takes the license's row lock instead. */
const OPTIMISTIC_ATTEMPTS = 3;

export interface NextTokenRequest {
  device: DeviceTarget;
  format?: TokenFormat | undefined;
  now: Date;
}

export interface NextToken {
  issued: IssuedToken;
  write: TokenWriteResult;
  /** The license as the token was built from. */
  license: LicenseRecord;
}

/**
 * The next token of a license, without holding its lock: sign from the license as read,
 * then write the token and the new lineage head in one statement that succeeds only if the
 * row still has the version read (compare-and-set on xmin). Any write to the row in
 * between — another issue, a change of terms, a revocation, a device deactivated — makes
 * it write nothing; the license is then read again and the token signed anew. In this
 * process the issues of one license take turns (so they do not throw away each other's
 * signatures); after OPTIMISTIC_ATTEMPTS lost races (other instances) the license's row
 * lock decides, as it does when a period end is due (the billing step runs under it).
 * So a refresh is the read it was given and one write — no BEGIN, no COMMIT, no plan read
 * (the plan cache) — and every guarantee of the locked path holds: one token per seq, prev
 * = the last token's hash, the seat count and the device checked in the same statement.
 * @throws StoreError LICENSE_NOT_FOUND, LICENSE_REVOKED, PAYMENT_REQUIRED,
 *   DEVICE_NOT_FOUND, SEATS_FULL, SERVICE_UNAVAILABLE
 */
export async function issueNext(
  ctx: StoreContext,
  read: LicenseRecord,
  request: NextTokenRequest,
): Promise<NextToken> {
  return oneAtATime(ctx.db, read.id, async (waited) => {
    let license: LicenseRecord | undefined = read;
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      // A read made before waiting for this license's turn is stale: read it again.
      if (waited || attempt > 0 || license.version === undefined) {
        license = await licensesRepository(ctx.db).forIssue(read.id);
        if (!license) throw new StoreError('LICENSE_NOT_FOUND');
      }
      if (owesBillingStep(license, request.now)) break;
      assertUsable(ctx.config, license);
      const outcome = await signAndWrite(ctx.db, ctx, license, {
        ...request,
        expectedVersion: license.version,
      });
      if (outcome.issued) return { issued: outcome.issued, write: outcome.write, license };
      // Not a lost race when the row was as read: the device or the seats said no.
      if (outcome.write.version === license.version) refuse(request.device, outcome.write, license);
    }
    return ctx.db.transaction(async (tx) => {
      const locked = await lockCurrentLicense(tx, ctx, read.id, request.now);
      assertUsable(ctx.config, locked);
      const outcome = await signAndWrite(tx, ctx, locked, request);
      if (outcome.issued) return { issued: outcome.issued, write: outcome.write, license: locked };
      refuse(request.device, outcome.write, locked);
      throw new Error(`the token of license ${locked.id} was not written under its lock`);
    });
  });
}

/**
 * Throws what the token write's device conditions answered when they failed.
 * @throws StoreError DEVICE_NOT_FOUND, SEATS_FULL
 */
function refuse(device: DeviceTarget, write: TokenWriteResult, license: LicenseRecord): void {
  if (device.kind === 'active' && write.device === null) throw new StoreError('DEVICE_NOT_FOUND');
  if (
    device.kind === 'activate' &&
    write.device === null &&
    (write.activeDevices ?? 0) >= license.seats
  ) {
    throw new StoreError('SEATS_FULL');
  }
}

const turns = new WeakMap<object, Map<string, Promise<unknown>>>();
const ignore = () => undefined;

/**
 * Runs `work` once every earlier call for the same license in this process has ended;
 * `waited` says whether there was one (then what the caller read may be stale).
 */
async function oneAtATime<T>(
  store: object,
  licenseId: string,
  work: (waited: boolean) => Promise<T>,
): Promise<T> {
  let byLicense = turns.get(store);
  if (!byLicense) {
    byLicense = new Map();
    turns.set(store, byLicense);
  }
  const before = byLicense.get(licenseId);
  const run = before ? before.then(() => work(true)) : work(false);
  const tail = run.then(ignore, ignore);
  byLicense.set(licenseId, tail);
  try {
    return await run;
  } finally {
    if (byLicense.get(licenseId) === tail) byLicense.delete(licenseId);
  }
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
