import { sha256 } from '#ed25519-platform';
import {
  base64urlDecode,
  base64urlEncodeShort,
  isBase64urlOfLength,
} from './encoding/base64url.js';
import { utf8Encode } from './encoding/utf8.js';
import { KeyError } from './errors.js';

/** An Ed25519 public key as a JWK (RFC 8037 §2). */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid?: string;
}

/** An Ed25519 private key as a JWK: `d` is the 32-byte seed. */
export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  d: string;
}

/**
 * Accepts an Ed25519 public JWK. A private `d` is refused (a trust anchor must never be a
 * private key file) and so is an `alg` other than EdDSA/Ed25519; other members (use,
 * key_ops, ext …) are ignored and dropped. Messages never echo member values.
 * @throws KeyError
 */
export function parsePublicJwk(value: unknown, what = 'public key'): Ed25519PublicJwk {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KeyError(`${what} is not a JWK object`);
  }
  const jwk = value as Record<string, unknown>;
  if (Object.hasOwn(jwk, 'd')) {
    throw new KeyError(`${what} is a private key ("d"), not a public one`);
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new KeyError(`${what} is not an Ed25519 key (kty OKP, crv Ed25519)`);
  }
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') {
    throw new KeyError(`${what} has an alg other than EdDSA`);
  }
  if (!isBase64urlOfLength(jwk.x, 32))
    throw new KeyError(`${what} "x" is not canonical base64url of 32 bytes`);
  const parsed: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  if (typeof jwk.kid === 'string') parsed.kid = jwk.kid;
  return parsed;
}

/** Accepts an Ed25519 private JWK (with `d`). @throws KeyError */
export function parsePrivateJwk(value: unknown, what = 'private key'): Ed25519PrivateJwk {
  if (
    typeof value !== 'object' ||
    value === null ||
    !isBase64urlOfLength((value as { d?: unknown }).d, 32)
  ) {
    throw new KeyError(`${what} is not an Ed25519 private JWK (no 32-byte "d")`);
  }
  const { d, ...publicPart } = value as Record<string, unknown>;
  return { ...parsePublicJwk(publicPart, what), d: d as string };
}

export function publicKeyBytes(jwk: Ed25519PublicJwk): Uint8Array {
  return base64urlDecode(jwk.x, 'x');
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 key: the hash of the required
 * members in lexicographic order with no whitespace, {"crv","kty","x"} (RFC 8037 §2).
 * It is the kid of every key.
 */
export async function jwkThumbprint(jwk: Pick<Ed25519PublicJwk, 'x'>): Promise<string> {
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`;
  return base64urlEncodeShort(await sha256(utf8Encode(canonical)));
}

/** SHA-256 of a token's own bytes, base64url: the `prev` of the next token in a lineage. */
export async function tokenHash(bytes: Uint8Array): Promise<string> {
  return base64urlEncodeShort(await sha256(bytes));
}
