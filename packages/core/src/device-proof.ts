import { defaultVerifyBackend, sha256 } from '#ed25519-platform';
import { base64urlDecode, base64urlEncode } from './encoding/base64url.js';
import { isJsonObject, parseStrictJson } from './encoding/json.js';
import { utf8Decode, utf8Encode } from './encoding/utf8.js';
import { MalformedError } from './errors.js';
import type { Ed25519PublicJwk } from './keys.js';
import { jwkThumbprint, parsePublicJwk, publicKeyBytes } from './keys.js';

/**
 * Proof of possession of a device key, in the shape of an RFC 9449 DPoP proof: a compact
 * JWS with `typ` "dpop+jwt", the device's public key in the `jwk` header, and the request
 * it authorises (`htm` method, `htu` URL, `iat`, a unique `jti`) plus an optional server
 * `nonce` and, for requests with a body, `bh` = base64url SHA-256 of the body, so a proof
 * cannot be replayed against another request. Here taking the key from the header is the
 * point: the receiver compares its thumbprint with the device the license is bound to.
 */
export const DEVICE_PROOF_TYPE = 'dpop+jwt';
const MAX_PROOF_LENGTH = 2048;

export interface DeviceSigner {
  publicJwk: Ed25519PublicJwk;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface ProofRequest {
  method: string;
  url: string;
  /** Seconds since the epoch; defaults to now. */
  iat?: number;
  nonce?: string;
  body?: Uint8Array | string;
}

export async function createDeviceProof(
  device: DeviceSigner,
  request: ProofRequest,
): Promise<string> {
  const header = {
    typ: DEVICE_PROOF_TYPE,
    alg: 'EdDSA',
    jwk: { kty: 'OKP', crv: 'Ed25519', x: device.publicJwk.x },
  };
  const claims: Record<string, unknown> = {
    jti: base64urlEncode(crypto.getRandomValues(new Uint8Array(16))),
    htm: request.method.toUpperCase(),
    htu: request.url,
    iat: request.iat ?? Math.floor(Date.now() / 1000),
  };
  if (request.nonce !== undefined) claims.nonce = request.nonce;
  if (request.body !== undefined) {
    const body = typeof request.body === 'string' ? utf8Encode(request.body) : request.body;
    claims.bh = base64urlEncode(await sha256(body));
  }
  const input = `${base64urlEncode(utf8Encode(JSON.stringify(header)))}.${base64urlEncode(utf8Encode(JSON.stringify(claims)))}`;
  return `${input}.${base64urlEncode(await device.sign(utf8Encode(input)))}`;
}

export interface VerifiedProof {
  /** RFC 7638 thumbprint of the device key (compare with the license's cnf.jkt). */
  thumbprint: string;
  publicJwk: Ed25519PublicJwk;
  jti: string;
  iat: number;
  nonce?: string;
}

export interface ProofExpectations {
  method: string;
  url: string;
  now: number;
  /** Accepted age (and clock skew ahead) of `iat`, seconds. Default 300. */
  maxAge?: number;
  body?: Uint8Array | string;
}

/**
 * Checks a device proof: strict JWS, typ dpop+jwt, EdDSA, signature by the header key,
 * method and URL match, `iat` fresh, body hash matches when a body is expected.
 * Replay of `jti` within maxAge is the receiver's to track.
 * @throws MalformedError saying what failed
 */
export async function verifyDeviceProof(
  proof: string,
  expected: ProofExpectations,
): Promise<VerifiedProof> {
  if (typeof proof !== 'string' || proof.length > MAX_PROOF_LENGTH) {
    throw new MalformedError('too_large', 'device proof is missing or too long');
  }
  const parts = proof.split('.');
  if (parts.length !== 3)
    throw new MalformedError('bad_structure', 'device proof is not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = parseStrictJson(utf8Decode(base64urlDecode(h, 'proof header')), {
    maxDepth: 3,
    what: 'proof header',
  });
  const claims = parseStrictJson(utf8Decode(base64urlDecode(p, 'proof claims')), {
    maxDepth: 2,
    what: 'proof claims',
  });
  if (!isJsonObject(header) || !isJsonObject(claims))
    throw new MalformedError('bad_structure', 'device proof parts are not objects');
  if (header.typ !== DEVICE_PROOF_TYPE)
    throw new MalformedError('wrong_type', 'device proof typ is not dpop+jwt');
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519')
    throw new MalformedError('unsupported_alg', 'device proof alg is not EdDSA');
  if (Object.hasOwn(header, 'crit'))
    throw new MalformedError('unknown_crit', 'device proof has critical extensions');
  let publicJwk: Ed25519PublicJwk;
  try {
    publicJwk = parsePublicJwk(header.jwk, 'device proof jwk');
  } catch {
    throw new MalformedError('bad_structure', 'device proof jwk is not an Ed25519 public key');
  }
  const backend = await defaultVerifyBackend();
  const key = await backend.importPublicKey(publicKeyBytes(publicJwk));
  if (
    !(await backend.verify(key, utf8Encode(`${h}.${p}`), base64urlDecode(s, 'proof signature')))
  ) {
    throw new MalformedError('bad_structure', 'device proof signature does not verify');
  }
  const maxAge = expected.maxAge ?? 300;
  if (claims.htm !== expected.method.toUpperCase() || claims.htu !== expected.url) {
    throw new MalformedError('bad_claims', 'device proof was made for another request');
  }
  if (
    typeof claims.iat !== 'number' ||
    !Number.isSafeInteger(claims.iat) ||
    Math.abs(expected.now - claims.iat) > maxAge
  ) {
    throw new MalformedError('bad_claims', 'device proof is too old or from the future');
  }
  if (typeof claims.jti !== 'string' || claims.jti.length < 16 || claims.jti.length > 64) {
    throw new MalformedError('bad_claims', 'device proof has no usable jti');
  }
  if (expected.body !== undefined) {
    const body = typeof expected.body === 'string' ? utf8Encode(expected.body) : expected.body;
    if (claims.bh !== base64urlEncode(await sha256(body))) {
      throw new MalformedError('bad_claims', 'device proof does not cover this request body');
    }
  }
  const verified: VerifiedProof = {
    thumbprint: await jwkThumbprint(publicJwk),
    publicJwk,
    jti: claims.jti,
    iat: claims.iat,
  };
  if (typeof claims.nonce === 'string') verified.nonce = claims.nonce;
  return verified;
}
