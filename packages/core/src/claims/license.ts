import type { PeriodUnit } from '../arithmetic/periods.js';
import type { QuotaSpec } from '../arithmetic/quota.js';
import { ClaimError } from '../errors.js';
import {
  digest,
  duration,
  has,
  identifier,
  MAX_ENTITLEMENTS,
  MAX_GRACE,
  MAX_QUOTAS,
  name,
  nonNegativeInteger,
  numericDate,
  oneOf,
  plainObject,
  positiveInteger,
  record,
  tokenId,
  uniqueNames,
} from './checks.js';
import { ACCESS_CODES, CHANGE_CODES, PERIOD_CODES } from './cwt-labels.js';

/** `full` for a paid (or free) plan, `trial` while a trial runs. */
export type Access = 'full' | 'trial';

/** The closed sets are the code lists of the CWT encoding (cwt-labels.ts): one definition each. */
export const PERIOD_UNITS: readonly PeriodUnit[] = PERIOD_CODES;

/** A plan change that waits for the end of the period (downgrades, cancellations, fewer seats). */
export interface PendingChange {
  kind: 'downgrade' | 'cancel' | 'seats';
  /** When the change takes effect (NumericDate). */
  at: number;
  /** The plan that applies from `at` (the free plan after a cancellation, where one exists). */
  plan?: string;
  /** The seat count from `at`. */
  seats?: number;
}

/**
 * The license claim model shared by both encodings (DESIGN.md "Claims"). Times are
 * NumericDate integers in seconds. Defaults are normalised: `ent` and `quota` are always
 * present (possibly empty); `exp` absent means a perpetual license.
 */
export interface LicenseClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  nbf: number;
  exp?: number;
  jti: string;
  plan: string;
  access: Access;
  ent: string[];
  quota: Record<string, QuotaSpec>;
  anchor?: number;
  rfa?: number;
  grace?: number;
  seq: number;
  prev?: string;
  cnf?: { jkt: string };
  chg?: PendingChange;
}

/** Every claim name of the model, in the order of DESIGN.md. */
export const LICENSE_CLAIM_NAMES: readonly (keyof LicenseClaims)[] = [
  'iss',
  'sub',
  'aud',
  'iat',
  'nbf',
  'exp',
  'jti',
  'plan',
  'access',
  'ent',
  'quota',
  'anchor',
  'rfa',
  'grace',
  'seq',
  'prev',
  'cnf',
  'chg',
];

/** Claims the issuer fills in when absent (see the issuer's `issue`). */
export type LicenseClaimsInput = Omit<
  LicenseClaims,
  'iat' | 'nbf' | 'jti' | 'seq' | 'ent' | 'quota' | 'access'
> &
  Partial<Pick<LicenseClaims, 'iat' | 'nbf' | 'jti' | 'seq' | 'ent' | 'quota' | 'access'>>;

export function parseQuotaSpec(value: unknown, claim: string): QuotaSpec {
  const spec = record(value, claim, ['limit', 'per', 'unlimited']);
  if (has(spec, 'unlimited')) {
    // Unlimited only ever as the explicit `{ unlimited: true }`; anything else is an error,
    // never read as "no limit".
    if (spec.unlimited !== true || has(spec, 'limit') || has(spec, 'per')) {
      throw new ClaimError(claim, 'must be { limit, per? } or { unlimited: true }');
    }
    return { unlimited: true };
  }
  if (!has(spec, 'limit')) throw new ClaimError(`${claim}.limit`, 'is required');
  const limit = nonNegativeInteger(spec.limit, `${claim}.limit`);
  if (!has(spec, 'per')) return { limit };
  return { limit, per: oneOf(spec.per, `${claim}.per`, PERIOD_UNITS) };
}

/** `ent`; absent (undefined) is none, while null is present, and refused. */
function parseEntitlements(value: unknown): string[] {
  return value === undefined ? [] : uniqueNames(value, 'ent', MAX_ENTITLEMENTS);
}

/** `quota`; absent (undefined) is none, while null is present, and refused. */
function parseQuotas(value: unknown): Record<string, QuotaSpec> {
  if (value === undefined) return {};
  const raw = plainObject(value, 'quota');
  const names = Object.keys(raw);
  if (names.length > MAX_QUOTAS)
    throw new ClaimError('quota', `must have at most ${MAX_QUOTAS} entries`);
  const quotas: Record<string, QuotaSpec> = {};
  for (const quotaName of names) {
    name(quotaName, `quota.${quotaName}`);
    const spec = parseQuotaSpec(raw[quotaName], `quota.${quotaName}`);
    if (quotaName === 'seats' && 'per' in spec) {
      // Seats count devices over the whole term, never per period.
      throw new ClaimError('quota.seats', 'must not have "per"');
    }
    // Plain assignment is safe here: name() has refused "__proto__" (it starts with "_").
    quotas[quotaName] = spec;
  }
  return quotas;
}

function parsePendingChange(value: unknown): PendingChange {
  const raw = record(value, 'chg', ['kind', 'at', 'plan', 'seats']);
  const change: PendingChange = {
    kind: oneOf(raw.kind, 'chg.kind', CHANGE_CODES),
    at: numericDate(raw.at, 'chg.at'),
  };
  if (has(raw, 'plan')) change.plan = identifier(raw.plan, 'chg.plan');
  if (has(raw, 'seats')) change.seats = positiveInteger(raw.seats, 'chg.seats');
  if (change.kind === 'downgrade' && change.plan === undefined) {
    throw new ClaimError('chg.plan', 'is required for a downgrade');
  }
  if (change.kind === 'seats' && change.seats === undefined) {
    throw new ClaimError('chg.seats', 'is required for a seat change');
  }
  return change;
}

/**
 * Validates JSON-shaped license claims (a JWT payload) and returns them normalised. Unknown
 * claims are ignored (RFC 7519 §4: a newer issuer may add claims an older app does not
 * know), but every known claim must be exactly right.
 * @throws ClaimError naming the first claim at fault
 */
export function parseLicenseClaims(payload: Record<string, unknown>): LicenseClaims {
  return validateLicenseClaims((name) => (has(payload, name) ? payload[name] : undefined));
}

/** Reads one claim by its name in the JSON shape; undefined when it is absent. */
export type ClaimSource = (name: keyof LicenseClaims) => unknown;

/**
 * The one set of license rules, over a source of JSON-shaped claim values: a JWT payload,
 * or a CWT payload read claim by claim (claims/license-cwt.ts), which so needs no mapped
 * copy of itself on the verify path.
 * @throws ClaimError naming the first claim at fault
 */
export function validateLicenseClaims(claim: ClaimSource): LicenseClaims {
  // One claim after the other, in the model's order, so the first claim at fault is named.
  const claims: LicenseClaims = {
    iss: identifier(claim('iss'), 'iss'),
    sub: identifier(claim('sub'), 'sub'),
    aud: identifier(claim('aud'), 'aud'),
    iat: numericDate(claim('iat'), 'iat'),
    nbf: numericDate(claim('nbf'), 'nbf'),
    jti: tokenId(claim('jti'), 'jti'),
    plan: identifier(claim('plan'), 'plan'),
    access: oneOf(claim('access'), 'access', ACCESS_CODES),
    ent: parseEntitlements(claim('ent')),
    quota: parseQuotas(claim('quota')),
    seq: nonNegativeInteger(claim('seq'), 'seq'),
  };
  /** Reads an optional claim: absent stays absent, present must pass `check`. */
  const optional = <K extends keyof LicenseClaims>(
    name: K,
    check: (value: unknown, claim: K) => LicenseClaims[K],
  ) => {
    const value = claim(name);
    if (value !== undefined) claims[name] = check(value, name);
  };
  optional('exp', numericDate);
  if (claims.exp !== undefined && claims.exp <= claims.nbf) {
    throw new ClaimError('exp', 'must be after nbf');
  }
  optional('anchor', numericDate);
  optional('rfa', numericDate);
  optional('grace', (value, name) => duration(value, name, MAX_GRACE));
  optional('prev', digest);
  if ((claims.seq === 0) !== (claims.prev === undefined)) {
    throw new ClaimError(
      'prev',
      claims.seq === 0 ? 'must be absent at seq 0' : 'is required after seq 0',
    );
  }
  optional('cnf', (value) => ({ jkt: digest(record(value, 'cnf', ['jkt']).jkt, 'cnf.jkt') }));
  optional('chg', parsePendingChange);
  return claims;
}

/** The JSON form of validated claims (the JWT payload): defaults left out, keys in model order. */
export function licenseClaimsToJson(claims: LicenseClaims): Record<string, unknown> {
  const json: Record<string, unknown> = {
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    iat: claims.iat,
    nbf: claims.nbf,
  };
  if (claims.exp !== undefined) json.exp = claims.exp;
  json.jti = claims.jti;
  json.plan = claims.plan;
  json.access = claims.access;
  if (claims.ent.length > 0) json.ent = claims.ent;
  if (Object.keys(claims.quota).length > 0) json.quota = claims.quota;
  if (claims.anchor !== undefined) json.anchor = claims.anchor;
  if (claims.rfa !== undefined) json.rfa = claims.rfa;
  if (claims.grace !== undefined) json.grace = claims.grace;
  json.seq = claims.seq;
  if (claims.prev !== undefined) json.prev = claims.prev;
  if (claims.cnf !== undefined) json.cnf = claims.cnf;
  if (claims.chg !== undefined) json.chg = claims.chg;
  return json;
}
