import {
  isBase64urlOfLength,
  jwkThumbprint,
  KeyError,
  parseStrictJson,
  utf8Decode,
} from '@licensekit/core';
import { readSmallFile } from './files.js';

/**
 * Reading and checking a JWK file. Every message names the file and none quotes a value
 * from it: the file may hold a private key, and core's parsers (which do quote some values,
 * such as `alg`) are only called once these checks have passed.
 */

// A JWK is ~200 bytes; anything much larger is not a key file.
const MAX_KEY_FILE_BYTES = 16 * 1024;

/** Parses a key file as a JSON object; the messages never quote the content. */
export async function readJwkFile(
  path: string,
): Promise<{ jwk: Record<string, unknown>; mode: number }> {
  const { bytes, mode } = await readSmallFile(path, MAX_KEY_FILE_BYTES);
  let value: unknown;
  try {
    // Strict parsing: a key file with two "d" members must not be read one way here and
    // another way by the next tool.
    value = parseStrictJson(utf8Decode(bytes), { maxDepth: 2 });
  } catch {
    throw new KeyError(
      `${path} is not valid JSON; it is damaged or not a key file: restore it from a backup`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KeyError(`${path} is not a JWK (a JSON object); give the path of a key file`);
  }
  return { jwk: value as Record<string, unknown>, mode };
}

/** Checks the members of a JWK with fixed messages (core's would quote values). */
export function checkEd25519Members(jwk: Record<string, unknown>, path: string): void {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new KeyError(
      `${path} is not an Ed25519 key (kty "OKP", crv "Ed25519"); licensekit uses Ed25519 keys only: create one with licensekit keygen`,
    );
  }
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') {
    throw new KeyError(
      `${path} restricts its key to another algorithm ("alg"); remove "alg" or use EdDSA`,
    );
  }
  if (!isBase64urlOfLength(jwk.x, 32)) {
    throw new KeyError(
      `${path} has no valid public key ("x"); it is damaged: restore it from a backup`,
    );
  }
}

/** The kid a key file gives must be its thumbprint; returns the thumbprint. */
export async function checkedKid(
  jwk: Record<string, unknown>,
  x: string,
  path: string,
): Promise<string> {
  const kid = await jwkThumbprint({ x });
  if (jwk.kid !== undefined && jwk.kid !== kid) {
    throw new KeyError(
      `${path} has a "kid" that is not the thumbprint of its key; it was edited or damaged`,
    );
  }
  return kid;
}
