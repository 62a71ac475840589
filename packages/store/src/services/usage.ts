import type { QuotaSpec, QuotaWindow } from '@licensekit/core';
import {
  base64urlDecode,
  defaultBackend,
  MalformedError,
  parsePublicJwk,
  parseStrictJson,
  publicKeyBytes,
  quotaWindow,
  utf8Decode,
  utf8Encode,
} from '@licensekit/core';
import { USAGE_REPORT_TYPE } from '@licensekit/verifier';
import { Value } from 'typebox/value';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { seconds } from '../lib/clock.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { QuotaState } from '../schemas/usage.js';
import { UsageReport } from '../schemas/usage.js';
import { isRevoked, licenseEventData } from './licensing.js';
import { emitOnce } from './notifications.js';

/**
 * Quota usage on the store side: the verifier's ledger reports (cumulative per window,
 * per device) and what the store counts itself (downloads, device ''). A quota's use in
 * its current window is the sum over devices of the highest count each reported for a
 * window starting in it, plus the store's own count.
 *
 * Reports may take a quota past its limit (apps count offline; the store could not refuse
 * the use). The real count is kept — never capped or dropped — and the excess is shown as
 * `overuse` and announced as quota.overused. What the store counts itself (downloads) is
 * refused at the limit instead (services/attachments.ts).
 */

/** quota.low goes out when this share of a limit is used (DESIGN.md: 80 %). */
export const QUOTA_LOW_RATIO = 0.8;
/** Reports stamped further ahead than this are refused (a skewed or forged clock). */
const MAX_FUTURE_SECONDS = 86_400;
const MAX_SIGNED_REPORT_LENGTH = 16_384;

export interface PlanTerms {
  quotas: Record<string, QuotaSpec>;
  graceDays: number;
}

export async function planTerms(db: Queryable, license: LicenseRecord): Promise<PlanTerms> {
  const [row] = await db.query<{ quotas: Record<string, QuotaSpec>; grace_days: number }>(
    'SELECT quotas, grace_days FROM plans WHERE product_id = $1 AND id = $2',
    [license.productId, license.planId],
  );
  return { quotas: row?.quotas ?? {}, graceDays: row?.grace_days ?? 0 };
}

/**
 * The counting window of a quota now, exactly as the verifier counts from the license's
 * tokens: `per` quotas per period from the license's anchor; the others over the
 * license's whole life from the anchor (its tokens carry the anchor, so every renewed
 * token counts in the same window) — core's quotaWindow.
 */
export function currentWindow(spec: QuotaSpec, license: LicenseRecord, now: Date): QuotaWindow {
  const termStart = seconds(license.anchor);
  const end = license.periodEnd ? seconds(license.periodEnd) : undefined;
  const termEnd = end !== undefined && end > termStart ? end : undefined;
  return quotaWindow(spec, seconds(license.anchor), termStart, termEnd, seconds(now));
}

async function usedIn(
  db: Queryable,
  licenseId: string,
  quota: string,
  window: QuotaWindow,
): Promise<number> {
  const [row] = await db.query<{ used: number | string | null }>(
    `SELECT coalesce(sum(used), 0)::bigint AS used FROM usage
      WHERE license_id = $1 AND quota = $2 AND window_start >= $3
        AND ($4::timestamptz IS NULL OR window_start < $4)`,
    [
      licenseId,
      quota,
      new Date(window.start * 1000),
      window.end === undefined ? null : new Date(window.end * 1000),
    ],
  );
  return Number(row?.used ?? 0);
}

/**
 * How far a quota's use is past its limit: used − limit, never below 0; null when
 * unlimited. Apps count offline and report afterwards, so the store may learn of use past
 * the limit that it could not refuse: it keeps the real count and reports the excess.
 * With remaining = max(0, limit − used): remaining + used − overuse = limit, always.
 */
export function quotaOveruse(limit: number | null, used: number): number | null {
  return limit === null ? null : Math.max(0, used - limit);
}

/**
 * The notice step of an overuse ≥ 1: the index of its highest set bit (1 → 0, 2–3 → 1,
 * 4–7 → 2, …). quota.overused goes out once per license, quota, window and step: when an
 * overuse first appears, then whenever it crosses the next power of two. So the vendor
 * hears again each time the overuse has at least doubled since the last notice, replays
 * and growth within a step stay quiet, and a window never sends more than 53 — without
 * remembering the last amount sent (the notifications key alone decides, as for the
 * other quota events).
 */
export function overuseStep(overuse: number): number {
  // The binary length is exact for every safe integer; Math.log2 can round up just
  // below a power of two.
  return overuse.toString(2).length - 1;
}

function describeQuota(spec: QuotaSpec, used: number, window: QuotaWindow): QuotaState {
  const unlimited = !('limit' in spec);
  const limit = unlimited ? null : spec.limit;
  return {
    limit,
    unlimited,
    used,
    remaining: limit === null ? null : Math.max(0, limit - used),
    overuse: quotaOveruse(limit, used),
    windowStart: new Date(window.start * 1000).toISOString(),
    resetsAt: window.end === undefined ? null : new Date(window.end * 1000).toISOString(),
  };
}

/** Limit, use, remaining and reset of every quota of the license's plan (portal, API). */
export async function quotaStates(
  db: Queryable,
  license: LicenseRecord,
  now: Date,
): Promise<Record<string, QuotaState>> {
  const { quotas } = await planTerms(db, license);
  const states: Record<string, QuotaState> = {};
  for (const [name, spec] of Object.entries(quotas)) {
    const window = currentWindow(spec, license, now);
    states[name] = describeQuota(spec, await usedIn(db, license.id, name, window), window);
  }
  return states;
}

/**
 * Emits, for the current window of each named quota: quota.exhausted at 100 % or
 * quota.low at 80 %, each once per license, quota and window; and quota.overused when the
 * use is past the limit (see overuseStep for how often).
 */
export async function quotaEvents(
  tx: Queryable,
  license: LicenseRecord,
  quotas: Record<string, QuotaSpec>,
  names: Iterable<string>,
  now: Date,
): Promise<void> {
  for (const name of names) {
    const spec = quotas[name];
    if (spec === undefined || !('limit' in spec)) continue;
    const window = currentWindow(spec, license, now);
    const state = describeQuota(spec, await usedIn(tx, license.id, name, window), window);
    await thresholdEvent(tx, license, name, state, window, now);
    await overuseEvent(tx, license, name, state, window, now);
  }
}

async function thresholdEvent(
  tx: Queryable,
  license: LicenseRecord,
  name: string,
  state: QuotaState,
  window: QuotaWindow,
  now: Date,
): Promise<void> {
  // A zero limit is exhausted from the start: nothing to warn about (use of it is overuse).
  if (state.limit === null || state.limit === 0) return;
  const type =
    state.used >= state.limit
      ? ('quota.exhausted' as const)
      : state.used >= state.limit * QUOTA_LOW_RATIO
        ? ('quota.low' as const)
        : undefined;
  if (type === undefined) return;
  await emitOnce(
    tx,
    { licenseId: license.id, kind: `${type}:${name}`, periodKey: String(window.start) },
    type,
    licenseEventData(license, {
      quota: name,
      limit: state.limit,
      used: state.used,
      remaining: state.remaining,
      windowStart: state.windowStart,
      resetsAt: state.resetsAt,
    }),
    now,
  );
}

async function overuseEvent(
  tx: Queryable,
  license: LicenseRecord,
  name: string,
  state: QuotaState,
  window: QuotaWindow,
  now: Date,
): Promise<void> {
  if (state.overuse === null || state.overuse === 0) return;
  await emitOnce(
    tx,
    {
      licenseId: license.id,
      kind: `quota.overused:${name}`,
      periodKey: `${window.start}:${overuseStep(state.overuse)}`,
    },
    'quota.overused',
    licenseEventData(license, {
      quota: name,
      limit: state.limit,
      used: state.used,
      overuse: state.overuse,
      windowStart: state.windowStart,
      resetsAt: state.resetsAt,
    }),
    now,
  );
}

/**
 * quota.overused for the earlier windows a report names: an app offline over a period
 * end reports the old window's count afterwards, and that overuse must not pass unseen
 * because a new window has begun. (quota.low and quota.exhausted are warnings about the
 * window in progress, so they are not sent for a window that is over.) Windows before the
 * license's anchor belong to no window of it and are not counted anywhere.
 */
async function lateOveruseEvents(
  tx: Queryable,
  license: LicenseRecord,
  quotas: Record<string, QuotaSpec>,
  reported: Iterable<{ quota: string; window: number }>,
  now: Date,
): Promise<void> {
  const seen = new Set<string>();
  for (const entry of reported) {
    const spec = quotas[entry.quota];
    if (spec === undefined || !('limit' in spec)) continue;
    if (entry.window < seconds(license.anchor)) continue;
    const window = currentWindow(spec, license, new Date(entry.window * 1000));
    if (window.start === currentWindow(spec, license, now).start) continue; // quotaEvents' job
    const key = `${entry.quota}:${window.start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const used = await usedIn(tx, license.id, entry.quota, window);
    await overuseEvent(tx, license, entry.quota, describeQuota(spec, used, window), window, now);
  }
}

export interface RecordedUsage {
  accepted: string[];
  ignored: string[];
}

/**
 * Records a report: per quota the highest count seen for (license, quota, window,
 * device). Reports are cumulative, so an older or replayed report never lowers a count
 * and replays are harmless. Quotas the plan lacks and future windows are ignored.
 */
export async function recordUsageReport(
  db: Db,
  license: LicenseRecord,
  report: UsageReport,
  device: string,
  now: Date,
): Promise<RecordedUsage> {
  if (report.license !== license.id || report.product !== license.productId) {
    throw new StoreError('USAGE_REPORT_INVALID', 'The report is for another license or product.');
  }
  if (report.generatedAt > seconds(now) + MAX_FUTURE_SECONDS) {
    throw new StoreError('USAGE_REPORT_INVALID', 'The report is dated in the future.');
  }
  if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
  return db.transaction(async (tx) => {
    // Reports of one license take turns (the row lock), so each one's events are decided on
    // the total including the report before it: two devices reporting at once cannot each
    // see only their own count and leave a crossed overuse step unannounced.
    const current = (await licensesRepository(tx).byId(license.id, { forUpdate: true })) ?? license;
    const { quotas } = await planTerms(tx, current);
    const accepted: string[] = [];
    const ignored: string[] = [];
    const reported: { quota: string; window: number }[] = [];
    for (const [name, entry] of Object.entries(report.quotas)) {
      if (!Object.hasOwn(quotas, name) || entry.window > seconds(now) + MAX_FUTURE_SECONDS) {
        ignored.push(name);
        continue;
      }
      await tx.query(
        `INSERT INTO usage (license_id, quota, window_start, device, used, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (license_id, quota, window_start, device)
         DO UPDATE SET used = GREATEST(usage.used, EXCLUDED.used), updated_at = EXCLUDED.updated_at`,
        [current.id, name, new Date(entry.window * 1000), device, entry.used, now],
      );
      accepted.push(name);
      reported.push({ quota: name, window: entry.window });
    }
    // The count is recorded whatever the limit (the app already used it offline); going
    // past the limit is reported to the vendor instead (quota.overused).
    await quotaEvents(tx, current, quotas, accepted, now);
    await lateOveruseEvents(tx, current, quotas, reported, now);
    return { accepted, ignored };
  });
}

/**
 * Checks a device-signed report (compact JWS, typ lic-usage+jwt, EdDSA): the signing key
 * is the public key of an active device of the license the report names (kid = its RFC
 * 7638 thumbprint). Only after the signature checks out is the payload trusted.
 */
export async function verifySignedReport(
  db: Queryable,
  token: string,
): Promise<{ license: LicenseRecord; report: UsageReport; device: string }> {
  const invalid = (why: string) => new StoreError('USAGE_REPORT_INVALID', why);
  if (token.length > MAX_SIGNED_REPORT_LENGTH) throw invalid('The signed report is too long.');
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('The signed report is not a compact JWS.');
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  let signature: Uint8Array;
  try {
    header = parseStrictJson(utf8Decode(base64urlDecode(h, 'header')), { maxDepth: 2 });
    payload = parseStrictJson(utf8Decode(base64urlDecode(p, 'payload')), { maxDepth: 4 });
    signature = base64urlDecode(s, 'signature');
  } catch (error) {
    if (error instanceof MalformedError) throw invalid('The signed report cannot be decoded.');
    throw error;
  }
  const head = header as Record<string, unknown>;
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw invalid('The report header is not an object.');
  if (head.typ !== USAGE_REPORT_TYPE) throw invalid(`The report typ is not ${USAGE_REPORT_TYPE}.`);
  if (head.alg !== 'EdDSA' && head.alg !== 'Ed25519') throw invalid('The report alg is not EdDSA.');
  if (Object.hasOwn(head, 'crit')) throw invalid('The report has critical header parameters.');
  if (typeof head.kid !== 'string' || head.kid.length === 0 || head.kid.length > 128)
    throw invalid('The report names no device key (kid).');
  if (!Value.Check(UsageReport, payload)) throw invalid('The report payload has the wrong shape.');
  const report = payload as UsageReport;
  if (report.device !== undefined && report.device !== head.kid)
    throw invalid('The report names another device than the key that signed it.');

  const untrusted = new StoreError('USAGE_REPORT_UNTRUSTED');
  const [device] = await db.query<{ public_jwk: unknown }>(
    `SELECT public_jwk FROM devices
      WHERE license_id = $1 AND thumbprint = $2 AND deactivated_at IS NULL`,
    [report.license, head.kid],
  );
  if (!device) throw untrusted;
  const backend = await defaultBackend();
  let publicKey: Uint8Array;
  try {
    publicKey = publicKeyBytes(parsePublicJwk(device.public_jwk, 'device key'));
  } catch {
    throw untrusted;
  }
  const verified = await backend.verify(
    await backend.importPublicKey(publicKey),
    utf8Encode(`${h}.${p}`),
    signature,
  );
  if (!verified) throw untrusted;
  const license = await licensesRepository(db).byId(report.license);
  if (!license) throw untrusted;
  return { license, report, device: head.kid };
}
