import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { ClaimError } from '../errors.js';
import { digest, identifier, numericDate, record } from './checks.js';
import { CERTIFICATE_MAP, CWT } from './cwt-labels.js';
import { cborArray, cborBytesToText, cborMap, int, textToCborBytes } from './cwt-values.js';

/**
 * An issuer certificate: the offline root key certifies an online issuer key for a
 * validity window and a product scope. The certified key travels in the RFC 7800 / RFC
 * 8747 confirmation claim (`cnf.jwk`, CWT `cnf` COSE_Key); its kid is its thumbprint.
 * `products` lists product ids; the single entry "*" means every product of the vendor.
 */
export interface IssuerCertificateClaims {
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  /** The certified Ed25519 public key (JWK `x`, base64url of 32 bytes). */
  key: string;
  products: string[];
}

export const ALL_PRODUCTS = '*';
const MAX_PRODUCTS = 256;

export function parseCertificateClaims(payload: Record<string, unknown>): IssuerCertificateClaims {
  const cnf = record(payload.cnf, 'cnf', ['jwk']);
  const jwk = record(cnf.jwk, 'cnf.jwk', ['kty', 'crv', 'x']);
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new ClaimError('cnf.jwk', 'must be an Ed25519 key (kty OKP, crv Ed25519)');
  }
  if (
    !Array.isArray(payload.products) ||
    payload.products.length === 0 ||
    payload.products.length > MAX_PRODUCTS
  ) {
    throw new ClaimError('products', `must have 1 to ${MAX_PRODUCTS} entries`);
  }
  const products = payload.products.map((p, i) => identifier(p, `products[${i}]`));
  if (new Set(products).size !== products.length)
    throw new ClaimError('products', 'has a duplicate');
  const claims: IssuerCertificateClaims = {
    iss: identifier(payload.iss, 'iss'),
    iat: numericDate(payload.iat, 'iat'),
    nbf: numericDate(payload.nbf, 'nbf'),
    exp: numericDate(payload.exp, 'exp'),
    jti: digest(payload.jti, 'jti', 16),
    key: digest(jwk.x, 'cnf.jwk.x'),
    products,
  };
  if (claims.exp <= claims.nbf) throw new ClaimError('exp', 'must be after nbf');
  return claims;
}

export function certificateClaimsToJson(claims: IssuerCertificateClaims): Record<string, unknown> {
  return {
    iss: claims.iss,
    iat: claims.iat,
    nbf: claims.nbf,
    exp: claims.exp,
    jti: claims.jti,
    cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: claims.key } },
    products: claims.products,
  };
}

// RFC 8747 §3.1 confirmation method COSE_Key = 1; RFC 9053 OKP kty = 1, crv Ed25519 = 6,
// key parameters crv −1 and x −2.
const CNF_COSE_KEY = 1;
const COSE_KEY = { kty: 1, crv: -1, x: -2, OKP: 1, Ed25519: 6 } as const;

/**
 * CWT payload map → the JSON-shaped claims (a JWT payload's shape), unvalidated. An absent
 * `nbf` is `iat`, in certificates and licenses alike: the encoders leave `nbf` out when it
 * equals `iat` (6 bytes), and a token is never valid before it was issued anyway (README
 * "Time status"), so the omission changes no verdict.
 */
export function certificateJsonFromCwt(payload: Map<CborKey, CborValue>): Record<string, unknown> {
  const cnf = cborMap(payload.get(CWT.cnf), 'cnf');
  const key = cborMap(cnf.get(CNF_COSE_KEY), 'cnf.jwk');
  const scope = cborMap(payload.get(CWT.private), 'products');
  return {
    iss: payload.get(CWT.iss),
    iat: payload.get(CWT.iat),
    nbf: payload.has(CWT.nbf) ? payload.get(CWT.nbf) : payload.get(CWT.iat),
    exp: payload.get(CWT.exp),
    jti: cborBytesToText(payload.get(CWT.cti), 'jti'),
    cnf: {
      jwk: {
        kty: key.get(COSE_KEY.kty) === COSE_KEY.OKP ? 'OKP' : 'unknown',
        crv: key.get(COSE_KEY.crv) === COSE_KEY.Ed25519 ? 'Ed25519' : 'unknown',
        x: cborBytesToText(key.get(COSE_KEY.x), 'cnf.jwk.x'),
      },
    },
    products: cborArray(scope.get(CERTIFICATE_MAP.products), 'products'),
  };
}

export function certificateToCwt(claims: IssuerCertificateClaims): Map<number, CborEncodable> {
  const coseKey = new Map<number, CborEncodable>([
    [COSE_KEY.kty, COSE_KEY.OKP],
    [COSE_KEY.crv, COSE_KEY.Ed25519],
    [COSE_KEY.x, textToCborBytes(claims.key)],
  ]);
  const payload = new Map<number, CborEncodable>([
    [CWT.iss, claims.iss],
    [CWT.exp, int(claims.exp)],
  ]);
  // Left out when it equals iat (certificateJsonFromCwt).
  if (claims.nbf !== claims.iat) payload.set(CWT.nbf, int(claims.nbf));
  payload.set(CWT.iat, int(claims.iat));
  payload.set(CWT.cti, textToCborBytes(claims.jti));
  payload.set(CWT.cnf, new Map([[CNF_COSE_KEY, coseKey]]));
  payload.set(CWT.private, new Map([[CERTIFICATE_MAP.products, claims.products]]));
  return payload;
}
