import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { ClaimError } from '../errors.js';
import { digest, has, identifier, nonNegativeInteger, numericDate, tokenId } from './checks.js';
import { CWT, REVOCATION_MAP } from './cwt-labels.js';
import { cborArray, cborBytesToText, cborMap, int, textToCborBytes } from './cwt-values.js';

/**
 * A signed revocation list (root or issuer). `seq` only grows: a verifier keeps the list
 * with the highest seq and never replaces it with an older one. `next` is when the signer
 * promises a fresher list; past it the list is stale (a warning, not a failure).
 */
export interface RevocationListClaims {
  iss: string;
  iat: number;
  seq: number;
  next?: number;
  /** Revoked signing keys (kid thumbprints). */
  keys: string[];
  /** Revoked licenses (`sub`): every token of the lineage. */
  licenses: string[];
  /** Revoked single tokens (`jti`). */
  tokens: string[];
}

export const MAX_REVOCATION_ENTRIES = 10_000;

function list(
  value: unknown,
  claim: string,
  check: (entry: unknown, claim: string) => string,
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ClaimError(claim, 'must be an array');
  if (value.length > MAX_REVOCATION_ENTRIES) {
    throw new ClaimError(claim, `must have at most ${MAX_REVOCATION_ENTRIES} entries`);
  }
  return value.map((entry, i) => check(entry, `${claim}[${i}]`));
}

export function parseRevocationClaims(payload: Record<string, unknown>): RevocationListClaims {
  const claims: RevocationListClaims = {
    iss: identifier(payload.iss, 'iss'),
    iat: numericDate(payload.iat, 'iat'),
    seq: nonNegativeInteger(payload.seq, 'seq'),
    keys: list(payload.keys, 'keys', (v, c) => digest(v, c)),
    licenses: list(payload.licenses, 'licenses', identifier),
    tokens: list(payload.tokens, 'tokens', tokenId),
  };
  if (has(payload, 'next')) {
    claims.next = numericDate(payload.next, 'next');
    if (claims.next <= claims.iat) throw new ClaimError('next', 'must be after iat');
  }
  return claims;
}

export function revocationClaimsToJson(claims: RevocationListClaims): Record<string, unknown> {
  const json: Record<string, unknown> = { iss: claims.iss, iat: claims.iat, seq: claims.seq };
  if (claims.next !== undefined) json.next = claims.next;
  json.keys = claims.keys;
  json.licenses = claims.licenses;
  json.tokens = claims.tokens;
  return json;
}

export function revocationJsonFromCwt(payload: Map<CborKey, CborValue>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  if (payload.has(CWT.iss)) json.iss = payload.get(CWT.iss);
  if (payload.has(CWT.iat)) json.iat = payload.get(CWT.iat);
  const body = cborMap(payload.get(CWT.private), 'revocations');
  if (body.has(REVOCATION_MAP.seq)) json.seq = body.get(REVOCATION_MAP.seq);
  if (body.has(REVOCATION_MAP.next)) json.next = body.get(REVOCATION_MAP.next);
  if (body.has(REVOCATION_MAP.keys)) {
    json.keys = cborArray(body.get(REVOCATION_MAP.keys), 'keys').map((k, i) =>
      cborBytesToText(k, `keys[${i}]`),
    );
  }
  if (body.has(REVOCATION_MAP.licenses))
    json.licenses = cborArray(body.get(REVOCATION_MAP.licenses), 'licenses');
  if (body.has(REVOCATION_MAP.tokens)) {
    json.tokens = cborArray(body.get(REVOCATION_MAP.tokens), 'tokens').map((t, i) =>
      cborBytesToText(t, `tokens[${i}]`),
    );
  }
  return json;
}

export function revocationToCwt(claims: RevocationListClaims): Map<number, CborEncodable> {
  const body = new Map<number, CborEncodable>([[REVOCATION_MAP.seq, int(claims.seq)]]);
  if (claims.next !== undefined) body.set(REVOCATION_MAP.next, int(claims.next));
  if (claims.keys.length > 0) body.set(REVOCATION_MAP.keys, claims.keys.map(textToCborBytes));
  if (claims.licenses.length > 0) body.set(REVOCATION_MAP.licenses, claims.licenses);
  if (claims.tokens.length > 0) body.set(REVOCATION_MAP.tokens, claims.tokens.map(textToCborBytes));
  return new Map<number, CborEncodable>([
    [CWT.iss, claims.iss],
    [CWT.iat, int(claims.iat)],
    [CWT.private, body],
  ]);
}
