import type { TokenFormat } from '@licensekit/core';
import { LicenseKitError, MalformedError } from '@licensekit/core';
import type { LogProofBundle } from '@licensekit/core/log';
import type { OfflineRequest } from '@licensekit/core/offline';
import {
  createOfflineResponse,
  joinQrParts,
  MAX_OFFLINE_TEXT_LENGTH,
  readOfflineRequest,
} from '@licensekit/core/offline';
import { Value } from 'typebox/value';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { DeviceRecord } from '../repositories/devices.js';
import { devicesRepository } from '../repositories/devices.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { UsageReport } from '../schemas/usage.js';
import type { DeviceView } from './activation.js';
import { deviceView } from './activation.js';
import { lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import { assertUsable } from './licensing.js';
import { issueLicenseToken } from './tokens.js';
import type { RecordedUsage } from './usage.js';
import { recordUsageReport } from './usage.js';

/**
 * Offline activation (DESIGN.md "Offline activation"): the store's answer to a request
 * written by a machine that never goes online, brought by its customer (portal, API) or
 * the vendor's support desk (admin API). Same rules as online: `activate` takes a seat for
 * the request's device key (an active device of that key keeps its seat), `refresh` needs
 * the device active; either way the token is the next of the license's lineage, bound to
 * the device (`cnf`). The request is signed by the device key it carries, so it stands in
 * for the online device proof, and its usage report counts as a device-signed one.
 *
 * Every answered request is kept (offline_requests): the same request again gets the same
 * response and no second seat. Requests are refused once older than 30 days.
 */

/** Requests older than this are stale: a response to them would be news to nobody. */
export const OFFLINE_REQUEST_MAX_AGE_SECONDS = 30 * 86_400;
/** Offline machines' clocks drift: a request may be dated up to a day ahead (as usage reports). */
export const OFFLINE_REQUEST_MAX_AHEAD_SECONDS = 86_400;

/** A request as it arrives: its text, or the QR parts it was cut into (any order). */
export type OfflineRequestInput = { text: string } | { parts: readonly string[] };

/** A request read, verified and checked against the license it is brought for. */
export interface CheckedOfflineRequest {
  request: OfflineRequest;
  /** Its usage report, checked against the license and the device key. */
  usage: UsageReport | undefined;
}

const invalid = (message: string) => new StoreError('OFFLINE_REQUEST_INVALID', message);
const mismatch = (message: string) => new StoreError('OFFLINE_REQUEST_MISMATCH', message);

/** What core's reader found wrong, in words for the person who brought the request. */
function refusal(error: LicenseKitError): StoreError {
  const reason = error instanceof MalformedError ? error.reason : undefined;
  if (reason === 'bad_checksum') {
    return invalid(
      'The checksum of the offline request does not match: it was mistyped, cut short, or its QR codes were joined wrongly. Copy or scan it again.',
    );
  }
  if (reason === 'too_large') {
    return invalid(`The offline request is longer than ${MAX_OFFLINE_TEXT_LENGTH} characters.`);
  }
  // Core's messages name the document and say exactly what failed (a response pasted
  // where a request belongs, a signature by another key than the one carried, …).
  const detail = error.message.replace(/^offline request: /, '');
  return invalid(`The offline request cannot be used: ${detail}.`);
}

/** Reads a request's text (or joins its QR parts), checking its check and signature. */
export async function readOfflineInput(input: OfflineRequestInput): Promise<OfflineRequest> {
  try {
    const text = 'text' in input ? input.text : joinQrParts(input.parts);
    return await readOfflineRequest(text);
  } catch (error) {
    if (error instanceof LicenseKitError) throw refusal(error);
    throw error;
  }
}

/**
 * Checks that a request may be answered for `license` at `now`: not stale, for this
 * license's product, and for this license — by its id when the request names one, else by
 * the key hint. A license id identifies the license exactly, so the hint is not asked to
 * agree with it: a key replaced since the app stored its hint changes the hint, not the
 * license (and devices keep refreshing after a key replacement). Its usage report must
 * be the verifier's report for this license and product, from this device.
 * @throws StoreError OFFLINE_REQUEST_INVALID, OFFLINE_REQUEST_MISMATCH
 */
export function checkOfflineRequest(
  license: LicenseRecord,
  request: OfflineRequest,
  now: Date,
): CheckedOfflineRequest {
  const at = seconds(now);
  if (request.iat < at - OFFLINE_REQUEST_MAX_AGE_SECONDS) {
    throw invalid(
      `The offline request was made on ${new Date(request.iat * 1000).toISOString().slice(0, 10)}, more than ${OFFLINE_REQUEST_MAX_AGE_SECONDS / 86_400} days ago: make a new request on the device.`,
    );
  }
  if (request.iat > at + OFFLINE_REQUEST_MAX_AHEAD_SECONDS) {
    throw invalid(
      'The offline request is dated more than a day ahead: check the clock of the device and make a new request.',
    );
  }
  if (request.product !== license.productId) {
    throw mismatch(
      `The offline request is for the product “${request.product}”, not for this license’s product.`,
    );
  }
  if (request.license !== undefined && request.license !== license.id) {
    throw mismatch('The offline request is for another license.');
  }
  if (request.license === undefined && request.keyHint !== license.keyHint) {
    throw mismatch(
      `The offline request was made with a license key ending in ${request.keyHint}, not with this license’s key.`,
    );
  }
  if (request.seq > license.seq) {
    throw mismatch('The offline request names a token this license never had.');
  }
  return { request, usage: checkUsage(license, request, at) };
}

function checkUsage(
  license: LicenseRecord,
  request: OfflineRequest,
  at: number,
): UsageReport | undefined {
  if (request.usage === undefined) return undefined;
  if (!Value.Check(UsageReport, request.usage)) {
    throw invalid('The usage report inside the offline request has the wrong shape.');
  }
  const usage = request.usage as UsageReport;
  if (usage.license !== license.id || usage.product !== license.productId) {
    throw mismatch('The usage report inside the offline request is for another license.');
  }
  if (usage.device !== undefined && usage.device !== request.thumbprint) {
    throw invalid('The usage report inside the offline request names another device.');
  }
  if (usage.generatedAt > at + OFFLINE_REQUEST_MAX_AHEAD_SECONDS) {
    throw invalid('The usage report inside the offline request is dated in the future.');
  }
  return usage;
}

// ------------------------------------------------------------ answered requests

interface AnsweredRow {
  request_hash: string;
  kind: 'activate' | 'refresh';
  license_id: string;
  device_id: string;
  token: string;
  usage: RecordedUsage | null;
  response: string;
}

async function answered(db: Queryable, hash: string): Promise<AnsweredRow | undefined> {
  const [row] = await db.query<AnsweredRow>(
    `SELECT o.request_hash, o.kind, o.license_id, o.device_id, t.token, o.usage, o.response
       FROM offline_requests o JOIN tokens t ON t.jti = o.token_jti
      WHERE o.request_hash = $1`,
    [hash],
  );
  return row;
}

async function nonceAnswered(db: Queryable, nonce: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM offline_requests WHERE nonce = $1', [nonce]);
  return rows.length > 0;
}

/** The response the store gave to a request of this license (the portal's response page). */
export async function offlineAnswerOf(
  db: Queryable,
  licenseId: string,
  hash: string,
): Promise<{ kind: 'activate' | 'refresh'; response: string } | undefined> {
  const [row] = await db.query<{ kind: 'activate' | 'refresh'; response: string }>(
    'SELECT kind, response FROM offline_requests WHERE request_hash = $1 AND license_id = $2',
    [hash, licenseId],
  );
  return row;
}

// ------------------------------------------------------------ deciding and answering

/** What answering a request will do, decided under the license's row lock. */
type Decision = { seatsInUse: number } & (
  | { kind: 'replay'; row: AnsweredRow; device: DeviceRecord }
  | { kind: 'activate'; device: DeviceRecord | undefined }
  | { kind: 'refresh'; device: DeviceRecord }
);

/**
 * The rules, in the order online activation and refresh apply them: a usable license (403
 * revoked, 402 unpaid); an answered request is answered again (for this license only, and
 * while its device is active); a nonce is used once; `activate` reuses the seat of an
 * active device of the same key or needs a free seat; `refresh` needs the device active.
 */
async function decide(
  tx: Queryable,
  ctx: StoreContext,
  license: LicenseRecord,
  request: OfflineRequest,
): Promise<Decision> {
  assertUsable(ctx.config, license);
  const devices = devicesRepository(tx);
  const row = await answered(tx, request.hash);
  if (row) {
    if (row.license_id !== license.id) {
      throw mismatch('The offline request was already answered for another license.');
    }
    const device = await devices.activeById(license.id, row.device_id);
    if (!device) {
      throw new StoreError(
        'DEVICE_NOT_FOUND',
        'The device this request was answered for has been deactivated since: make a new request on it.',
      );
    }
    return { kind: 'replay', row, device, seatsInUse: await devices.countActive(license.id) };
  }
  if (await nonceAnswered(tx, request.nonce)) throw new StoreError('OFFLINE_NONCE_REUSED');
  const device = await devices.activeByThumbprint(license.id, request.thumbprint);
  const seatsInUse = await devices.countActive(license.id);
  if (request.kind === 'refresh') {
    if (!device) {
      throw new StoreError(
        'DEVICE_NOT_FOUND',
        'The device that made this refresh request is not active on this license: activate it first.',
      );
    }
    return { kind: 'refresh', device, seatsInUse };
  }
  if (!device && seatsInUse >= license.seats) throw new StoreError('SEATS_FULL');
  return { kind: 'activate', device, seatsInUse };
}

/** What the portal's preview shows before anything is done. */
export interface OfflinePreview {
  kind: 'activate' | 'refresh';
  /** The request was answered before: confirming shows the same response again. */
  answered: boolean;
  thumbprint: string;
  /** The active device of the request's key, if there is one (activate: keeps its seat). */
  device: DeviceView | undefined;
  seats: number;
  seatsInUse: number;
  /** The request's own date (the device's clock). */
  requestedAt: Date;
  /** What the request reports, per quota: the count in the window starting at `window`. */
  usage: { quota: string; used: number; window: Date }[];
}

/**
 * What answering would do, without doing it: every refusal the answer would give comes
 * here first, so the customer is not asked to confirm what cannot be done.
 * @throws StoreError as {@link answerOfflineRequest}
 */
export async function previewOfflineRequest(
  ctx: StoreContext,
  licenseId: string,
  checked: CheckedOfflineRequest,
): Promise<OfflinePreview> {
  const now = ctx.clock.now();
  const { request, usage } = checked;
  return ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    const decision = await decide(tx, ctx, license, request);
    const { device } = decision;
    return {
      kind: request.kind,
      answered: decision.kind === 'replay',
      thumbprint: request.thumbprint,
      device: device && deviceView(device),
      seats: license.seats,
      seatsInUse: decision.seatsInUse,
      requestedAt: new Date(request.iat * 1000),
      usage: Object.entries(usage?.quotas ?? {}).map(([quota, entry]) => ({
        quota,
        used: entry.used,
        window: new Date(entry.window * 1000),
      })),
    };
  });
}

export interface OfflineAnswer {
  /** The response text (LK1-RES) for the device. */
  response: string;
  kind: 'activate' | 'refresh';
  license: string;
  device: DeviceView;
  token: string;
  /** What the request's usage report recorded; null without one. */
  usage: RecordedUsage | null;
  /** The request had been answered before: this is that answer again. */
  replayed: boolean;
  /** The request's hash: names the response (the portal's download). */
  requestHash: string;
  test: boolean;
}

export interface OfflineAnswerOptions {
  /** Default `cwt` (half the size of a JWT: fewer QR codes). */
  format?: TokenFormat | undefined;
  /**
   * Puts the token's issuance-log proof bundle in the response, from this source (the
   * running store's log), for apps that require one: an offline machine has no other way
   * to fetch it. Asked after the token's transaction has committed.
   */
  logProof?: ((token: string) => Promise<LogProofBundle>) | undefined;
}

/**
 * Answers a checked request for a license: takes the seat or checks the device, records
 * the usage report, issues the device's next token and keeps the response — in one
 * transaction under the license's row lock, so a refusal writes nothing and two copies of
 * one request (or two requests of one license) take turns. A request answered before gets
 * the same response again.
 * @throws StoreError LICENSE_NOT_FOUND, LICENSE_REVOKED, PAYMENT_REQUIRED, SEATS_FULL,
 *   DEVICE_NOT_FOUND, OFFLINE_NONCE_REUSED, OFFLINE_REQUEST_MISMATCH, SERVICE_UNAVAILABLE
 */
export async function answerOfflineRequest(
  ctx: StoreContext,
  licenseId: string,
  checked: CheckedOfflineRequest,
  options: OfflineAnswerOptions = {},
): Promise<OfflineAnswer> {
  const now = ctx.clock.now();
  const { request } = checked;
  let answer: OfflineAnswer;
  try {
    answer = await ctx.db.transaction((tx) =>
      answerLocked(tx, ctx, licenseId, checked, options, now),
    );
  } catch (error) {
    throw await concurrentAnswer(ctx.db, licenseId, request, error);
  }
  if (!answer.replayed) {
    if (options.logProof) answer = await withLogProof(ctx.db, answer, request, options.logProof);
    await forgetStale(ctx, now);
  }
  return answer;
}

async function answerLocked(
  tx: Queryable,
  ctx: StoreContext,
  licenseId: string,
  checked: CheckedOfflineRequest,
  options: OfflineAnswerOptions,
  now: Date,
): Promise<OfflineAnswer> {
  const { request } = checked;
  const license = await lockCurrentLicense(tx, ctx, licenseId, now);
  const decision = await decide(tx, ctx, license, request);
  if (decision.kind === 'replay') {
    const { row } = decision;
    return {
      response: row.response,
      kind: row.kind,
      license: license.id,
      device: deviceView(decision.device),
      token: row.token,
      usage: row.usage,
      replayed: true,
      requestHash: row.request_hash,
      test: license.test,
    };
  }
  const devices = devicesRepository(tx);
  const device = decision.device
    ? await devices.touch(decision.device.id, now)
    : await devices.insert({
        id: newId('dev'),
        licenseId: license.id,
        thumbprint: request.thumbprint,
        publicJwk: { kty: 'OKP', crv: 'Ed25519', x: request.publicJwk.x },
        name: '',
        activatedAt: now,
      });
  // The whole request is signed by the device key: its report counts as a device-signed one.
  const usage = checked.usage
    ? await recordUsageReport(
        inTransaction(tx, ctx.db),
        license,
        checked.usage,
        request.thumbprint,
        now,
      )
    : null;
  const issued = await issueLicenseToken(tx, ctx, license.id, {
    device: { id: device.id, thumbprint: device.thumbprint },
    format: options.format,
    now,
    // Locked and brought up to date above; a device and usage rows do not change it.
    locked: license,
  });
  const response = await createOfflineResponse({
    nonce: request.nonce,
    request: request.hash,
    token: issued.token,
  });
  await tx.query(
    `INSERT INTO offline_requests
       (request_hash, nonce, kind, license_id, device_id, token_jti, usage, response, request_iat, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      request.hash,
      request.nonce,
      request.kind,
      license.id,
      device.id,
      issued.jti,
      usage === null ? null : JSON.stringify(usage),
      response,
      new Date(request.iat * 1000),
      now,
    ],
  );
  return {
    response,
    kind: request.kind,
    license: license.id,
    device: deviceView(device),
    token: issued.token,
    usage,
    replayed: false,
    requestHash: request.hash,
    test: license.test,
  };
}

/**
 * The services that open their own transaction (recordUsageReport) run inside this one:
 * their work then commits or rolls back with the token's, so a refused request records no
 * usage either. The row lock they take is already held by this transaction.
 */
function inTransaction(tx: Queryable, db: Db): Db {
  return {
    kind: db.kind,
    query: (sql, params) => tx.query(sql, params),
    exec: (sql) => tx.exec(sql),
    transaction: (work) => work(tx),
    close: () => Promise.reject(new Error('a transaction cannot close the database')),
  };
}

/**
 * A unique violation of offline_requests means another transaction answered the same
 * request or nonce between our check and our insert (only requests of different licenses
 * do not queue on one row lock): refused as the check would have refused it.
 */
async function concurrentAnswer(
  db: Queryable,
  licenseId: string,
  request: OfflineRequest,
  error: unknown,
): Promise<unknown> {
  if ((error as { code?: unknown }).code !== '23505') return error;
  const row = await answered(db, request.hash);
  if (row && row.license_id !== licenseId) {
    return mismatch('The offline request was already answered for another license.');
  }
  if (row) return new StoreError('CONFLICT', 'The request was answered meanwhile: send it again.');
  return new StoreError('OFFLINE_NONCE_REUSED');
}

/** Rewrites the kept response with the token's log proof, so replays carry it too. */
async function withLogProof(
  db: Queryable,
  answer: OfflineAnswer,
  request: OfflineRequest,
  proofOf: (token: string) => Promise<LogProofBundle>,
): Promise<OfflineAnswer> {
  const bundle = await proofOf(answer.token);
  const response = await createOfflineResponse({
    nonce: request.nonce,
    request: request.hash,
    token: answer.token,
    logProof: { ...bundle, inclusion: [...bundle.inclusion] },
  });
  await db.query('UPDATE offline_requests SET response = $2 WHERE request_hash = $1', [
    request.hash,
    response,
  ]);
  return { ...answer, response };
}

/**
 * Forgets answered requests that have gone stale: a request that old is refused before
 * the table is consulted, so its row can never be needed again. Best effort, after the
 * answer has committed: a failure here costs only a later retry.
 */
async function forgetStale(ctx: StoreContext, now: Date): Promise<void> {
  try {
    await ctx.db.query('DELETE FROM offline_requests WHERE request_iat < $1', [
      new Date((seconds(now) - OFFLINE_REQUEST_MAX_AGE_SECONDS) * 1000),
    ]);
  } catch (error) {
    ctx.log.warn({ err: error }, 'could not delete stale offline requests');
  }
}
