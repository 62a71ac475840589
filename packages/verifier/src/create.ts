import { base64urlEncode, ConfigError, defaultBackend, graceEndsAt } from '@licensekit/core';
import type { Ed25519Backend, QuotaSpec } from '@licensekit/core';
import { Acceptor } from './acceptor.js';
import type { Accepted } from './acceptor.js';
import type { Decode } from './decode.js';
import { signWithDevice } from './device/device-key.js';
import type { DeviceKey } from './device/device-key.js';
import { evaluate, recordAcceptance } from './evaluate.js';
import { consume, usageSnapshot } from './ledger.js';
import type { LedgerEntry } from './ledger.js';
import { quotaStatuses } from './quota-view.js';
import { Backoff, buildRefreshRequest, isDue } from './refresh.js';
import type { RefreshOptions, RefreshOutcome } from './refresh.js';
import { isValidStatus, rejection, toDate } from './result.js';
import type { VerifyResult } from './result.js';
import { RevocationRegistry } from './revocation-registry.js';
import type { RevocationUpdate } from './revocation-registry.js';
import { memoryState } from './state/memory.js';
import { emptyState } from './state/state.js';
import type { StateData, StateStore } from './state/state.js';
import { TrustStore } from './trust.js';
import type { TrustOptions } from './trust.js';
import { Verdict } from './verdict.js';

export interface VerifierOptions {
  /** Root keys (they certify issuer keys) and/or issuer keys, as public JWKs. */
  trust: TrustOptions;
  /** The product id of this app; a license for another product is `wrong_product`. */
  product: string;
  /** Current time in epoch milliseconds (or a Date). Read once per call. Default Date.now. */
  clock?: () => number | Date;
  /** Seconds of clock skew allowed for `nbf`/`iat` and certificate windows. Default 60. */
  leeway?: number;
  /**
   * Seconds the clock may be behind the highest time already seen before the result is
   * `clock_tampered`. Default 86 400 (one day): wide enough for a machine whose clock
   * was briefly wrong or that dual-boots with the RTC in local time, narrow enough that
   * setting the clock back two days is caught.
   */
  clockTolerance?: number;
  /**
   * Where the marks (time high-water, highest seq per license, quota usage, newest
   * revocation list) persist. Default: memory, which protects one process only. `false`
   * keeps no marks at all (no rollback or clock checks, no `consume`): for servers that
   * verify tokens of many devices, whose lineages interleave.
   */
  state?: StateStore | false;
  /**
   * This device's key, for licenses bound with `cnf`. A DeviceKey also signs refresh
   * requests and usage reports; a bare `{ thumbprint }` only checks the binding.
   */
  device?: DeviceKey | { thumbprint: string };
  /** A revocation list token to apply from the start (a newer one in the state wins). */
  revocations?: string;
  /** Ed25519 implementation; by default the best one of the platform. */
  backend?: Ed25519Backend;
  /**
   * How many verified tokens to remember by their exact text, so re-checking one skips
   * decoding and the signature (status, state and time are still recomputed on every
   * call). 0 disables. Default 16.
   */
  cacheSize?: number;
}

export interface ConsumeResult {
  /** Whether the units were spent. */
  granted: boolean;
  quota: string;
  amount: number;
  /** `granted`, `exhausted`, `unknown_quota`, or the license's status when not valid. */
  reason: string;
  message: string;
  used: number;
  limit: number | null;
  remaining: number | null;
  resetsAt: Date | null;
  /** The verification the consumption was decided on. */
  license: VerifyResult;
}

/** JWS typ of a device-signed usage report. */
export const USAGE_REPORT_TYPE = 'lic-usage+jwt';

/** What the app sends to the store's usage endpoint before or at its next refresh. */
export interface UsageReport {
  license: string;
  product: string;
  /** seq of the token the report was made under. */
  seq: number;
  /** Seconds since the epoch. */
  generatedAt: number;
  device?: string;
  quotas: Record<string, LedgerEntry>;
}

export interface UsageReportOutcome {
  license: VerifyResult;
  /** Absent when the token was not trusted. */
  report?: UsageReport;
  /** The report as a compact JWS signed by the device key (bound licenses). */
  signed?: string;
}

export interface Verifier {
  /** Verifies a license token offline. Never throws for a bad token; returns a result. */
  verify(token: string | Uint8Array): Promise<VerifyResult>;
  /**
   * Spends `amount` units of a quota offline, atomically against the state: never past
   * the limit (then `granted` is false, `remaining` 0 and `resetsAt` the next reset).
   */
  consume(token: string | Uint8Array, quota: string, amount?: number): Promise<ConsumeResult>;
  /** Applies a newer signed revocation list; an older or equal one never replaces it. */
  updateRevocations(listToken: string): Promise<RevocationUpdate>;
  /**
   * Fetches a newer token from the store when this one is due (refresh_due, grace,
   * expired, or a pending change has taken effect). Never blocks `verify`; backs off after
   * failures; accepts only a valid token that extends this license's lineage. While the
   * store is unreachable the app keeps working until grace ends.
   */
  refreshIfDue(token: string | Uint8Array, options: RefreshOptions): Promise<RefreshOutcome>;
  /** The usage ledger of a license: units used in the current window of each quota. */
  usage(token: string | Uint8Array): Promise<{ license: VerifyResult; usage: Record<string, LedgerEntry> }>;
  /**
   * The ledger as a report for the store's usage endpoint, signed by the device key
   * (compact JWS, typ "lic-usage+jwt") when the license is bound and the device can sign.
   */
  usageReport(token: string | Uint8Array): Promise<UsageReportOutcome>;
  readonly product: string;
  readonly device: DeviceKey | { thumbprint: string } | undefined;
}

const DEFAULTS = { leeway: 60, clockTolerance: 86_400, cacheSize: 16 };

function wholeSeconds(value: number | undefined, fallback: number, name: string): number {
  const seconds = value ?? fallback;
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new ConfigError(`${name} must be whole seconds ≥ 0`);
  return seconds;
}

/** Builds a verifier around a decoder (both formats, or CWT only). */
export function createVerifierWith(decode: Decode, options: VerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null) throw new ConfigError('createVerifier needs options');
  const anchors = TrustStore.parse(options.trust ?? {});
  const { product } = options;
  if (typeof product !== 'string' || product.length === 0) throw new ConfigError('product must be the product id of this app');
  const leeway = wholeSeconds(options.leeway, DEFAULTS.leeway, 'leeway');
  const clockTolerance = wholeSeconds(options.clockTolerance, DEFAULTS.clockTolerance, 'clockTolerance');
  const cacheSize = wholeSeconds(options.cacheSize, DEFAULTS.cacheSize, 'cacheSize');
  const device = options.device;
  if (device !== undefined && typeof device.thumbprint !== 'string') throw new ConfigError('device needs a thumbprint');
  const stateless = options.state === false;
  const state = options.state === false || options.state === undefined ? memoryState() : options.state;
  const readClock = options.clock ?? Date.now;
  const backoff = new Backoff();

  interface Ready {
    acceptor: Acceptor;
    revocations: RevocationRegistry;
  }
  let ready: Promise<Ready> | undefined;
  const getReady = () => {
    ready ??= (async () => {
      const backend = options.backend ?? (await defaultBackend());
      const trust = await TrustStore.create(anchors, backend, decode);
      const revocations = new RevocationRegistry(state, product, decode, trust, backend);
      await revocations.load(options.revocations);
      return { acceptor: new Acceptor(decode, trust, backend, leeway, cacheSize), revocations };
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };

  function clockSeconds(): { now: number; checkedAt: Date } {
    const value = readClock();
    const ms = value instanceof Date ? value.getTime() : value;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new ConfigError('clock returned an invalid time');
    return { now: Math.floor(ms / 1000), checkedAt: new Date(ms) };
  }

  /**
   * Everything after the signature, in one state transaction so the marks read are the
   * marks written: evaluate, and when valid move the marks and run `action` (a quota
   * spend) in the same critical section.
   */
  async function decide<T>(
    accepted: Accepted,
    now: number,
    checkedAt: Date,
    revocations: RevocationRegistry,
    action?: (state: StateData) => { changed: boolean; value: T },
  ): Promise<{ result: VerifyResult; usage: Record<string, LedgerEntry>; actionValue?: T }> {
    const view = revocations.current;
    const context = { now, leeway, clockTolerance, product, device: device?.thumbprint, revocations: view };
    interface Decision {
      verdict: Verdict;
      usage: Record<string, LedgerEntry>;
      actionValue?: T | undefined;
    }
    const outcome = await state.transact<Decision>(product, (data) => {
      // Stateless: evaluate against fresh marks and never keep them.
      if (stateless) data = emptyState(product);
      const verdict = evaluate(data, accepted, context);
      if (!isValidStatus(verdict.status)) {
        return { changed: false, value: { verdict, usage: usageSnapshot(data, accepted.claims, now) } };
      }
      let changed = recordAcceptance(data, accepted, now);
      let actionValue: T | undefined;
      if (action) {
        const step = action(data);
        changed = step.changed || changed;
        actionValue = step.value;
      }
      return { changed, value: { verdict, usage: usageSnapshot(data, accepted.claims, now), actionValue } };
    });
    const result = describe(accepted, outcome.verdict, outcome.usage, checkedAt);
    if (result.valid && view?.isStale(now)) result.warnings.push('revocation_list_stale');
    return outcome.actionValue === undefined
      ? { result, usage: outcome.usage }
      : { result, usage: outcome.usage, actionValue: outcome.actionValue };
  }

  async function check(
    token: string | Uint8Array,
  ): Promise<{ result: VerifyResult; usage: Record<string, LedgerEntry>; accepted?: Accepted }> {
    const { now, checkedAt } = clockSeconds();
    if (typeof token !== 'string' && !(token instanceof Uint8Array)) {
      return { usage: {}, result: rejection('malformed', 'bad_structure', 'A license token is a string or bytes.', checkedAt) };
    }
    const { acceptor, revocations } = await getReady();
    const accepted = await acceptor.accept(token, now);
    if (accepted instanceof Verdict) {
      return { usage: {}, result: rejection(accepted.status, accepted.reason, accepted.message, checkedAt) };
    }
    return { ...(await decide(accepted, now, checkedAt, revocations)), accepted };
  }

  async function consumeQuota(token: string | Uint8Array, quota: string, amount = 1): Promise<ConsumeResult> {
    if (!Number.isSafeInteger(amount) || amount < 1) throw new ConfigError('amount must be a positive whole number');
    if (stateless) throw new ConfigError('consume needs a state (the verifier was created with state: false)');
    const { now, checkedAt } = clockSeconds();
    const refused = (license: VerifyResult, reason: string, message: string): ConsumeResult => {
      const view = license.quotas[quota];
      return {
        granted: false,
        quota,
        amount,
        reason,
        message,
        used: view?.used ?? 0,
        limit: view?.limit ?? null,
        remaining: view?.remaining ?? null,
        resetsAt: view?.resetsAt ?? null,
        license,
      };
    };
    if (typeof token !== 'string' && !(token instanceof Uint8Array)) {
      const license = rejection('malformed', 'bad_structure', 'A license token is a string or bytes.', checkedAt);
      return refused(license, 'malformed', license.message);
    }
    const { acceptor, revocations } = await getReady();
    const accepted = await acceptor.accept(token, now);
    if (accepted instanceof Verdict) {
      const license = rejection(accepted.status, accepted.reason, accepted.message, checkedAt);
      return refused(license, accepted.status, license.message);
    }
    const spec: QuotaSpec | undefined = Object.hasOwn(accepted.claims.quota, quota) ? accepted.claims.quota[quota] : undefined;
    if (spec === undefined) {
      const { result } = await decide(accepted, now, checkedAt, revocations);
      return refused(result, 'unknown_quota', `The license has no quota named ${JSON.stringify(quota)}.`);
    }
    const { result, actionValue } = await decide(accepted, now, checkedAt, revocations, (data) => {
      const spent = consume(data, accepted.claims, quota, spec, amount, now);
      return { changed: spent.granted, value: spent };
    });
    if (!result.valid || actionValue === undefined) return refused(result, result.status, result.message);
    const view = result.quotas[quota]!;
    return {
      granted: actionValue.granted,
      quota,
      amount,
      reason: actionValue.granted ? 'granted' : 'exhausted',
      message: actionValue.granted
        ? `Used ${amount} of ${quota}.`
        : `Not enough ${quota} left: ${view.remaining} remaining until ${view.resetsAt?.toISOString() ?? 'the end of the term'}.`,
      used: view.used,
      limit: view.limit,
      remaining: view.remaining,
      resetsAt: view.resetsAt,
      license: result,
    };
  }

  return {
    product,
    device,
    verify: async (token) => (await check(token)).result,
    consume: consumeQuota,
    async updateRevocations(listToken) {
      const { revocations } = await getReady();
      return revocations.update(listToken);
    },
    async refreshIfDue(token, refresh) {
      const { result, accepted } = await check(token);
      const nowMs = result.checkedAt.getTime();
      if (!refresh.force && !isDue(result, nowMs)) return { kind: 'not_due', result };
      if (accepted === undefined) {
        return { kind: 'failed', error: `the current token cannot be refreshed (${result.status})`, retryAt: result.checkedAt, result };
      }
      const blocked = backoff.blockedUntil(nowMs);
      if (blocked !== undefined) return { kind: 'backing_off', retryAt: new Date(blocked), result };
      const failed = (error: string): RefreshOutcome => ({ kind: 'failed', error, retryAt: new Date(backoff.fail(nowMs)), result });
      const text = typeof token === 'string' ? token : base64urlEncode(token);
      const signer = device && 'sign' in device ? (device as DeviceKey) : undefined;
      const request = await buildRefreshRequest(refresh.storeUrl, text, signer, accepted.claims.cnf !== undefined);
      let response: Response;
      try {
        response = await (refresh.fetch ?? fetch)(request.url, {
          ...request.init,
          signal: AbortSignal.timeout(refresh.timeoutMs ?? 10_000),
        });
      } catch (error) {
        return failed(`the store could not be reached (${error instanceof Error ? error.message : String(error)})`);
      }
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (response.status === 402 || response.status === 403 || response.status === 404) {
        backoff.fail(nowMs);
        const error = body?.error as { message?: unknown } | undefined;
        const refused: RefreshOutcome = {
          kind: 'refused',
          httpStatus: response.status,
          message: typeof error?.message === 'string' ? error.message : `the store answered ${response.status}`,
          result,
        };
        if (typeof body?.checkoutUrl === 'string') refused.checkoutUrl = body.checkoutUrl;
        return refused;
      }
      if (response.status !== 200 || typeof body?.token !== 'string') return failed(`the store answered ${response.status}`);
      const next = await check(body.token);
      const lineage = next.accepted?.claims;
      const extends_ =
        lineage !== undefined &&
        lineage.sub === accepted.claims.sub &&
        lineage.seq > accepted.claims.seq &&
        (lineage.seq !== accepted.claims.seq + 1 || lineage.prev === accepted.hash);
      if (!extends_ || !next.result.valid) {
        return failed(`the store sent a token that does not extend this license (${next.result.status})`);
      }
      backoff.succeed();
      return { kind: 'refreshed', token: body.token, result: next.result };
    },
    async usage(token) {
      const { result, usage } = await check(token);
      return { license: result, usage };
    },
    async usageReport(token) {
      const { result, usage, accepted } = await check(token);
      if (accepted === undefined) return { license: result };
      const report: UsageReport = {
        license: accepted.claims.sub,
        product,
        seq: accepted.claims.seq,
        generatedAt: Math.floor(result.checkedAt.getTime() / 1000),
        quotas: usage,
      };
      if (device !== undefined) report.device = device.thumbprint;
      const signer = device && 'sign' in device ? (device as DeviceKey) : undefined;
      if (accepted.claims.cnf !== undefined && signer) {
        return { license: result, report, signed: await signWithDevice(signer, USAGE_REPORT_TYPE, report) };
      }
      return { license: result, report };
    },
  };
}

/** The result for a token whose signature is trusted. */
function describe(accepted: Accepted, verdict: Verdict, usage: Record<string, LedgerEntry>, checkedAt: Date): VerifyResult {
  const { claims } = accepted;
  const result: VerifyResult = {
    valid: isValidStatus(verdict.status),
    status: verdict.status,
    reason: verdict.reason,
    message: verdict.message,
    checkedAt,
    format: accepted.format,
    kid: accepted.kid,
    claims,
    license: claims.sub,
    product: claims.aud,
    plan: claims.plan,
    trial: claims.access === 'trial',
    expiresAt: toDate(claims.exp),
    graceEndsAt: toDate(graceEndsAt(claims)),
    refreshAfter: toDate(claims.rfa),
    entitlements: [...claims.ent],
    quotas: quotaStatuses(claims, usage),
    warnings: [],
  };
  if (claims.chg) result.pendingChange = { ...claims.chg, at: new Date(claims.chg.at * 1000) };
  return result;
}
