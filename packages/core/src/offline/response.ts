import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';
import type { JsonValue } from '../encoding/json.js';
import { isJsonObject, parseStrictJson } from '../encoding/json.js';
import { utf8Decode, utf8Encode } from '../encoding/utf8.js';
import { MalformedError } from '../errors.js';
import { openText, sealText } from './envelope.js';

/**
 * The store's answer to an offline request, framed like the request (envelope.ts):
 *
 *     LK1-RES.<base64url JSON>.<check>
 *
 * JSON: `v` 1, `nonce` and `request` (the request's nonce and hash: which request this
 * answers), `token` (the new token, bound to the requesting device), and optionally
 * `logProof` (its issuance-log bundle). The response itself is not signed: everything an
 * app trusts is in the token, which the app verifies with every check of `verify` — its
 * signature and chain, product, device binding (`cnf`), lineage (not older than what the
 * app holds). The nonce only makes sure the app installs the answer to ITS request.
 */
export const OFFLINE_RESPONSE_KIND = 'LK1-RES';

export interface OfflineResponse {
  nonce: string;
  /** The answered request's hash (OfflineRequest.hash). */
  request: string;
  token: string;
  logProof?: { [key: string]: JsonValue };
}

const MEMBERS = new Set(['v', 'nonce', 'request', 'token', 'logProof']);

function bad(message: string): MalformedError {
  return new MalformedError('bad_offline_document', `offline response: ${message}`);
}

/** Frames a response as text. */
export async function createOfflineResponse(response: OfflineResponse): Promise<string> {
  const body: Record<string, JsonValue> = {
    v: 1,
    nonce: response.nonce,
    request: response.request,
    token: response.token,
  };
  if (response.logProof !== undefined) body.logProof = response.logProof;
  return sealText(OFFLINE_RESPONSE_KIND, base64urlEncode(utf8Encode(JSON.stringify(body))));
}

/**
 * Reads a response: its text check and strict JSON shape. The token inside is NOT
 * verified here: that is the verifier's job (importOfflineResponse).
 * @throws MalformedError ('bad_checksum' for a mistyped copy, 'wrong_type' for a request
 *   pasted where a response belongs)
 */
export async function readOfflineResponse(text: unknown): Promise<OfflineResponse> {
  const body = await openText(text, OFFLINE_RESPONSE_KIND, 'offline response');
  const json = parseStrictJson(utf8Decode(base64urlDecode(body, 'offline response')), {
    maxDepth: 6,
    what: 'offline response',
  });
  if (!isJsonObject(json)) throw bad('not an object');
  for (const name of Object.keys(json)) if (!MEMBERS.has(name)) throw bad(`unknown member ${name}`);
  if (json.v !== 1) throw bad('version is not 1');
  const { nonce, request, token, logProof } = json;
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) throw bad('no nonce');
  if (typeof request !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(request))
    throw bad('no request hash');
  if (typeof token !== 'string' || token.length === 0 || token.length > 16_384)
    throw bad('no token');
  const response: OfflineResponse = { nonce, request, token };
  if (logProof !== undefined) {
    if (!isJsonObject(logProof)) throw bad('logProof is not an object');
    response.logProof = logProof;
  }
  return response;
}
