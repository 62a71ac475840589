import type { Ed25519PublicJwk } from '@licensekit/core';
import { parseStrictJson } from '@licensekit/core';
import {
  createSigner,
  readPrivateKeyFile,
  readPublicKeyFile,
  type Signer,
} from '@licensekit/issuer';
import { UsageError } from './errors.js';
import { readTextFile } from './files.js';

function keyProblem(error: unknown, flag: string): unknown {
  // The issuer's KeyErrors name the file and say what to do; they never quote key material.
  if (error instanceof Error && 'code' in error && error.code === 'ERR_KEY_INVALID') {
    return new UsageError(`${flag}: ${error.message}`);
  }
  return error;
}

/** A signer from a private key file (refused when readable by others, or a public key). */
export async function signerFromFile(path: string, flag: string): Promise<Signer> {
  // The kind first: a public key file has mode 0644 by design, and "readable by other
  // users" would be the wrong advice for it.
  let value: unknown;
  try {
    value = parseStrictJson(await readTextFile(path, `${flag} key file`, 16 * 1024), {
      maxDepth: 2,
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Not JSON: readPrivateKeyFile below says so in its own words.
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !Object.hasOwn(value, 'd')
  ) {
    throw new UsageError(
      `${flag} ${path} is a public key; give the private key file (e.g. ${path.replace(/\.pub\.json$/, '.json')})`,
    );
  }
  try {
    return await createSigner(await readPrivateKeyFile(path));
  } catch (error) {
    throw keyProblem(error, flag);
  }
}

/** A public key file (a private key file is refused: give the .pub.json). */
export async function publicKeyFromFile(
  path: string,
  flag: string,
): Promise<Ed25519PublicJwk & { kid: string }> {
  try {
    return await readPublicKeyFile(path);
  } catch (error) {
    throw keyProblem(error, flag);
  }
}
