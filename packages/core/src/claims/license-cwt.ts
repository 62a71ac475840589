import type { QuotaSpec } from '../arithmetic/quota.js';
import { base64urlDecode, base64urlEncodeShort } from '../encoding/base64url.js';
import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { ClaimError } from '../errors.js';
import {
  ACCESS_CODES,
  CHANGE_CODES,
  CHANGE_MAP,
  CWT,
  LICENSE_MAP,
  PERIOD_CODES,
} from './cwt-labels.js';
import {
  cborArray,
  cborBytesToText,
  cborMap,
  codeToName,
  int,
  nameToCode,
  textToCborBytes,
} from './cwt-values.js';
import type { ClaimSource, LicenseClaims } from './license.js';
import { LICENSE_CLAIM_NAMES, validateLicenseClaims } from './license.js';

/**
 * License claims in CWT form (RFC 8392) and back. The CBOR shapes:
 *
 * | claim  | CBOR                                               |
 * |--------|----------------------------------------------------|
 * | sub    | text, or bytes b for the text "lic_" + base64url(b) |
 * | jti    | cti (7): the token id bytes                        |
 * | access | uint code: 0 full, 1 trial                         |
 * | quota  | map name → uint limit (whole term)                 |
 * |        |          | [limit, period code] (0 day … 3 year)   |
 * |        |          | true (unlimited)                        |
 * | prev   | 32-byte SHA-256                                    |
 * | cnf    | 32-byte device key thumbprint (the JWT's cnf.jkt)  |
 * | chg    | map {1 kind code, 2 at, 3 plan, 4 seats}           |
 */

/** How each member of the license map becomes its JSON claim (plain values pass as they are). */
const LICENSE_FROM_CWT: Readonly<
  Record<keyof typeof LICENSE_MAP, (value: CborValue | undefined) => unknown>
> = {
  plan: (value) => value,
  access: (value) => codeToName(value, 'access', ACCESS_CODES),
  ent: (value) => cborArray(value, 'ent'),
  quota: quotasFromCwt,
  anchor: (value) => value,
  rfa: (value) => value,
  grace: (value) => value,
  seq: (value) => value,
  prev: (value) => cborBytesToText(value, 'prev'),
  cnf: (value) => ({ jkt: cborBytesToText(value, 'cnf') }),
  chg: changeFromCwt,
};

/** CWT payload map → the JSON-shaped claims (a JWT payload's shape), unvalidated. */
export function licenseJsonFromCwt(payload: Map<CborKey, CborValue>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  const claim = cwtClaimSource(payload);
  for (const name of LICENSE_CLAIM_NAMES) {
    const value = claim(name);
    if (value !== undefined) json[name] = value;
  }
  return json;
}

/**
 * CWT payload map → validated claims, read claim by claim by the same validator as a JWT
 * payload (validateLicenseClaims): the verify path builds no mapped copy of the payload.
 * @throws ClaimError naming the first claim at fault
 */
export function licenseClaimsFromCwt(payload: Map<CborKey, CborValue>): LicenseClaims {
  return validateLicenseClaims(cwtClaimSource(payload));
}

/**
 * Each claim in its JSON shape, read from its CWT label. An absent `nbf` is `iat` (licenses
 * leave it out when equal, see certificateJsonFromCwt); a `sub` of bytes is a store license id.
 */
function cwtClaimSource(payload: Map<CborKey, CborValue>): ClaimSource {
  const license = payload.has(CWT.private)
    ? cborMap(payload.get(CWT.private), 'license')
    : undefined;
  return (name) => {
    if (name === 'jti') {
      return payload.has(CWT.cti) ? cborBytesToText(payload.get(CWT.cti), 'jti') : undefined;
    }
    // A keyed load, not `name in LICENSE_MAP`: V8 answers a varying `in` far more slowly,
    // and it was a third of the time spent reading a CWT's claims.
    const label: number | undefined = LICENSE_MAP[name as keyof typeof LICENSE_MAP];
    if (label !== undefined) {
      const value = license?.get(label);
      return value === undefined
        ? undefined
        : LICENSE_FROM_CWT[name as keyof typeof LICENSE_MAP](value);
    }
    const value = payload.get(
      name === 'nbf' && !payload.has(CWT.nbf) ? CWT.iat : CWT[name as keyof typeof CWT],
    );
    return name === 'sub' && value instanceof Uint8Array
      ? LICENSE_ID_PREFIX + base64urlEncodeShort(value)
      : value;
  };
}

/**
 * The prefix of the reference store's license ids: `lic_` + base64url of 16 random bytes
 * (26 characters). Since 0.3 a `sub` of the form `lic_` + canonical base64url is written as
 * the bytes (17 bytes instead of 28); every byte string reads back as exactly that text, so
 * the mapping is lossless both ways, and any other `sub` stays text.
 */
export const LICENSE_ID_PREFIX = 'lic_';

function subToCwt(sub: string): CborEncodable {
  if (sub.startsWith(LICENSE_ID_PREFIX)) {
    try {
      return base64urlDecode(sub.slice(LICENSE_ID_PREFIX.length));
    } catch {
      // Not canonical base64url after the prefix: the text form keeps it as it is.
    }
  }
  return sub;
}

function quotasFromCwt(value: CborValue | undefined): Record<string, unknown> {
  // No prototype: every name, "__proto__" included, becomes an own member for the
  // validator to judge (on a plain object, assigning "__proto__" would set the prototype).
  const quotas: Record<string, unknown> = Object.create(null);
  for (const [name, spec] of cborMap(value, 'quota')) {
    if (typeof name !== 'string') throw new ClaimError('quota', 'names must be text');
    quotas[name] = quotaFromCwt(spec, `quota.${name}`);
  }
  return quotas;
}

function quotaFromCwt(spec: CborValue, claim: string): unknown {
  if (spec === true) return { unlimited: true };
  if (typeof spec === 'number') return { limit: spec };
  if (Array.isArray(spec) && spec.length === 2) {
    return { limit: spec[0], per: codeToName(spec[1], `${claim}.per`, PERIOD_CODES) };
  }
  throw new ClaimError(claim, 'must be limit, [limit, period] or true');
}

function changeFromCwt(value: CborValue | undefined): Record<string, unknown> {
  const map = cborMap(value, 'chg');
  // Carried under a label of its own, so the JSON validator refuses an unknown one, as it
  // does an unknown member of a JWT's chg: both encodings, one verdict.
  const change: Record<string, unknown> = {};
  for (const [label, item] of map) {
    const name = Object.keys(CHANGE_MAP).find(
      (key) => CHANGE_MAP[key as keyof typeof CHANGE_MAP] === label,
    );
    change[name ?? `#${String(label)}`] = item;
  }
  if (map.has(CHANGE_MAP.kind)) {
    change.kind = codeToName(map.get(CHANGE_MAP.kind), 'chg.kind', CHANGE_CODES);
  }
  return change;
}

function quotaToCwt(spec: QuotaSpec): CborEncodable {
  if ('unlimited' in spec) return true;
  if (spec.per === undefined) return int(spec.limit);
  return [int(spec.limit), nameToCode(spec.per, PERIOD_CODES)];
}

/** Validated claims → the CWT payload map, defaults left out. */
export function licenseToCwt(claims: LicenseClaims): Map<number, CborEncodable> {
  const payload = new Map<number, CborEncodable>([
    [CWT.iss, claims.iss],
    [CWT.sub, subToCwt(claims.sub)],
    [CWT.aud, claims.aud],
  ]);
  if (claims.exp !== undefined) payload.set(CWT.exp, int(claims.exp));
  if (claims.nbf !== claims.iat) payload.set(CWT.nbf, int(claims.nbf));
  payload.set(CWT.iat, int(claims.iat));
  payload.set(CWT.cti, textToCborBytes(claims.jti));
  const license = new Map<number, CborEncodable>([
    [LICENSE_MAP.plan, claims.plan],
    [LICENSE_MAP.access, nameToCode(claims.access, ACCESS_CODES)],
  ]);
  if (claims.ent.length > 0) license.set(LICENSE_MAP.ent, claims.ent);
  const quotaNames = Object.keys(claims.quota);
  if (quotaNames.length > 0) {
    license.set(
      LICENSE_MAP.quota,
      new Map(quotaNames.map((name) => [name, quotaToCwt(claims.quota[name]!)])),
    );
  }
  if (claims.anchor !== undefined) license.set(LICENSE_MAP.anchor, int(claims.anchor));
  if (claims.rfa !== undefined) license.set(LICENSE_MAP.rfa, int(claims.rfa));
  if (claims.grace !== undefined) license.set(LICENSE_MAP.grace, int(claims.grace));
  license.set(LICENSE_MAP.seq, int(claims.seq));
  if (claims.prev !== undefined) license.set(LICENSE_MAP.prev, textToCborBytes(claims.prev));
  if (claims.cnf !== undefined) license.set(LICENSE_MAP.cnf, textToCborBytes(claims.cnf.jkt));
  if (claims.chg !== undefined) {
    const change = new Map<number, CborEncodable>([
      [CHANGE_MAP.kind, nameToCode(claims.chg.kind, CHANGE_CODES)],
      [CHANGE_MAP.at, int(claims.chg.at)],
    ]);
    if (claims.chg.plan !== undefined) change.set(CHANGE_MAP.plan, claims.chg.plan);
    if (claims.chg.seats !== undefined) change.set(CHANGE_MAP.seats, int(claims.chg.seats));
    license.set(LICENSE_MAP.chg, change);
  }
  payload.set(CWT.private, license);
  return payload;
}
