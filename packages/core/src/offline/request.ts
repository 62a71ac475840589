import { defaultVerifyBackend, sha256 } from '#ed25519-platform';
import type { DeviceSigner } from '../device-proof.js';
import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';
import type { JsonValue } from '../encoding/json.js';
import { isJsonObject, parseStrictJson } from '../encoding/json.js';
import { utf8Decode, utf8Encode } from '../encoding/utf8.js';
import { MalformedError } from '../errors.js';
import type { Ed25519PublicJwk } from '../keys.js';
import { jwkThumbprint, parsePublicJwk, publicKeyBytes } from '../keys.js';
import { openText, sealText } from './envelope.js';

/**
 * An activation or refresh request written by a machine that never goes online: a
 * compact JWS signed by the device key it asks a token for (proof of possession), with
 * that key in its `jwk` header, framed as text with a check (envelope.ts):
 *
 *     LK1-REQ.<header>.<claims>.<signature>.<check>
 *
 * Claims: `v` 1; `kind` "activate" | "refresh"; `aud` the product; `sub` the license id
 * when the app knows it (it holds a token), else `hint`, the last four characters of the
 * license key the user typed (shown in the portal beside each license, never enough to
 * guess the key); `nonce` (16 random bytes) and `iat`; `seq`, the highest token seq the app
 * holds (-1 for none); `usage`, the app's usage report since its last one (optional: the
 * verifier's usage-report payload). The license key itself is never in it.
 */
export const OFFLINE_REQUEST_KIND = 'LK1-REQ';
export const OFFLINE_REQUEST_TYPE = 'lic-offline+jwt';

export type OfflineRequestKind = 'activate' | 'refresh';

export interface OfflineRequestFields {
  kind: OfflineRequestKind;
  product: string;
  license?: string;
  keyHint?: string;
  seq?: number;
  usage?: { [key: string]: JsonValue };
  /** Seconds; default now. */
  iat?: number;
  /** base64url of 16 random bytes; default fresh. */
  nonce?: string;
}

export interface OfflineRequest {
  kind: OfflineRequestKind;
  product: string;
  license?: string;
  keyHint?: string;
  seq: number;
  usage?: { [key: string]: JsonValue };
  iat: number;
  nonce: string;
  /** The device key the request is signed with, and its RFC 7638 thumbprint. */
  publicJwk: Ed25519PublicJwk;
  thumbprint: string;
  /** base64url SHA-256 of the JWS: what a response names to answer this request. */
  hash: string;
  /** The framed text, as written. */
  text: string;
}

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const KEY_HINT = /^[A-Z0-9]{4}$/;
const NONCE = /^[A-Za-z0-9_-]{22}$/;
const CLAIMS = new Set(['v', 'kind', 'aud', 'sub', 'hint', 'seq', 'usage', 'iat', 'nonce']);

function bad(message: string): MalformedError {
  return new MalformedError('bad_offline_document', `offline request: ${message}`);
}

function requestHash(jws: string): Promise<string> {
  return sha256(utf8Encode(jws)).then(base64urlEncode);
}

/**
 * Writes a request, signed by the device.
 * @throws MalformedError for fields a store would refuse (an id out of pattern, no
 *   license and no hint, a usage report that is not an object)
 */
export async function createOfflineRequest(
  device: DeviceSigner,
  fields: OfflineRequestFields,
): Promise<OfflineRequest> {
  const claims: Record<string, JsonValue> = {
    v: 1,
    kind: fields.kind,
    aud: fields.product,
    nonce: fields.nonce ?? base64urlEncode(crypto.getRandomValues(new Uint8Array(16))),
    iat: fields.iat ?? Math.floor(Date.now() / 1000),
    seq: fields.seq ?? -1,
  };
  if (fields.license !== undefined) claims.sub = fields.license;
  if (fields.keyHint !== undefined) claims.hint = fields.keyHint.toUpperCase();
  if (fields.usage !== undefined) claims.usage = fields.usage;
  checkClaims(claims);
  const header = {
    typ: OFFLINE_REQUEST_TYPE,
    alg: 'EdDSA',
    jwk: { kty: 'OKP', crv: 'Ed25519', x: device.publicJwk.x },
  };
  const input = `${base64urlEncode(utf8Encode(JSON.stringify(header)))}.${base64urlEncode(utf8Encode(JSON.stringify(claims)))}`;
  const jws = `${input}.${base64urlEncode(await device.sign(utf8Encode(input)))}`;
  return readOfflineRequest(await sealText(OFFLINE_REQUEST_KIND, jws));
}

function checkClaims(claims: Record<string, JsonValue>): void {
  for (const name of Object.keys(claims)) if (!CLAIMS.has(name)) throw bad(`unknown claim ${name}`);
  if (claims.v !== 1) throw bad('version is not 1');
  if (claims.kind !== 'activate' && claims.kind !== 'refresh')
    throw bad('kind is not activate or refresh');
  if (typeof claims.aud !== 'string' || !IDENTIFIER.test(claims.aud)) throw bad('no product');
  if (
    claims.sub !== undefined &&
    (typeof claims.sub !== 'string' || !IDENTIFIER.test(claims.sub))
  ) {
    throw bad('the license id is not an identifier');
  }
  if (
    claims.hint !== undefined &&
    (typeof claims.hint !== 'string' || !KEY_HINT.test(claims.hint))
  ) {
    throw bad('the key hint is not the last four characters of a key');
  }
  if (claims.sub === undefined && claims.hint === undefined) {
    throw bad('names neither a license nor a key hint');
  }
  if (claims.kind === 'refresh' && claims.sub === undefined)
    throw bad('a refresh names its license');
  if (typeof claims.nonce !== 'string' || !NONCE.test(claims.nonce)) throw bad('no 16-byte nonce');
  if (typeof claims.iat !== 'number' || !Number.isSafeInteger(claims.iat) || claims.iat < 0) {
    throw bad('iat is not a NumericDate');
  }
  if (typeof claims.seq !== 'number' || !Number.isSafeInteger(claims.seq) || claims.seq < -1) {
    throw bad('seq is not an integer ≥ -1');
  }
  if (claims.usage !== undefined && !isJsonObject(claims.usage))
    throw bad('usage is not an object');
}

/**
 * Reads and checks a request: its text check, the strict JWS (typ, EdDSA, no crit), the
 * signature by the key in its header, and its claims. Who may be answered is the store's
 * to decide; this only proves what the request says and which device key wrote it.
 * @throws MalformedError saying what failed ('bad_checksum' for a mistyped copy)
 */
export async function readOfflineRequest(text: unknown): Promise<OfflineRequest> {
  const jws = await openText(text, OFFLINE_REQUEST_KIND, 'offline request');
  const parts = jws.split('.');
  if (parts.length !== 3) throw bad('not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = parseStrictJson(utf8Decode(base64urlDecode(h, 'request header')), {
    maxDepth: 3,
    what: 'request header',
  });
  const claims = parseStrictJson(utf8Decode(base64urlDecode(p, 'request claims')), {
    maxDepth: 8,
    what: 'request claims',
  });
  if (!isJsonObject(header) || !isJsonObject(claims)) throw bad('parts are not objects');
  if (header.typ !== OFFLINE_REQUEST_TYPE) throw bad(`typ is not ${OFFLINE_REQUEST_TYPE}`);
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') throw bad('alg is not EdDSA');
  if (Object.hasOwn(header, 'crit')) throw bad('has critical extensions');
  let publicJwk: Ed25519PublicJwk;
  try {
    publicJwk = parsePublicJwk(header.jwk, 'request jwk');
  } catch {
    throw bad('the device key is not an Ed25519 public key');
  }
  const backend = await defaultVerifyBackend();
  const key = await backend.importPublicKey(publicKeyBytes(publicJwk));
  const signature = base64urlDecode(s, 'request signature');
  if (!(await backend.verify(key, utf8Encode(`${h}.${p}`), signature))) {
    throw bad('the signature is not by the device key it carries');
  }
  checkClaims(claims);
  const request: OfflineRequest = {
    kind: claims.kind as OfflineRequestKind,
    product: claims.aud as string,
    seq: claims.seq as number,
    iat: claims.iat as number,
    nonce: claims.nonce as string,
    publicJwk,
    thumbprint: await jwkThumbprint(publicJwk),
    hash: await requestHash(jws),
    text: await sealText(OFFLINE_REQUEST_KIND, jws),
  };
  if (typeof claims.sub === 'string') request.license = claims.sub;
  if (typeof claims.hint === 'string') request.keyHint = claims.hint;
  if (isJsonObject(claims.usage)) request.usage = claims.usage;
  return request;
}
