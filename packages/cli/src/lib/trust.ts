import {
  type Ed25519PublicJwk,
  jwkThumbprint,
  parsePublicJwk,
  parseStrictJson,
} from '@licensekit/core';
import { parseVerifierKey } from '@licensekit/core/log';
import { quote, UsageError } from './errors.js';
import { readTextFile } from './files.js';

/** `key.json` → `key.pub.json`: the public file that goes with a private key file. */
function publicFileFor(path: string): string {
  return path.endsWith('.json') ? `${path.slice(0, -'.json'.length)}.pub.json` : `${path}.pub.json`;
}

/**
 * Reads a public key file given to `--trust`. It uses only core (never the issuer
 * package), so `licensekit verify` loads no signing code. A private key file is refused:
 * trust anchors get copied around and shipped, a private key must never travel that way.
 * Messages name the file and never quote its content.
 * @throws UsageError
 */
export async function readTrustKey(
  path: string,
  flag = '--trust',
): Promise<Ed25519PublicJwk & { kid: string }> {
  const text = await readTextFile(path, `${flag} key file`, 16 * 1024);
  let value: unknown;
  try {
    value = parseStrictJson(text, { maxDepth: 2 });
  } catch {
    throw new UsageError(
      `${flag} ${path} is not a JSON key file; give a public key file written by licensekit keygen (*.pub.json)`,
    );
  }
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, 'd')) {
    throw new UsageError(
      `${flag} ${path} is a private key; ${flag} takes the public key file: give ${publicFileFor(path)} instead (and keep ${path} private)`,
    );
  }
  let jwk: Ed25519PublicJwk;
  try {
    jwk = parsePublicJwk(value, `${flag} ${path}`);
  } catch {
    throw new UsageError(
      `${flag} ${path} is not an Ed25519 public key (JWK); give a .pub.json file written by licensekit keygen`,
    );
  }
  const kid = await jwkThumbprint(jwk);
  if (jwk.kid !== undefined && jwk.kid !== kid) {
    throw new UsageError(
      `${flag} ${path} has a "kid" that is not the thumbprint of its key; the file was edited or damaged`,
    );
  }
  return { ...jwk, kid };
}

/** Reads every `--trust` file; at least one is required. */
export async function readTrustKeys(
  paths: readonly string[],
): Promise<(Ed25519PublicJwk & { kid: string })[]> {
  if (paths.length === 0) {
    throw new UsageError(
      '--trust KEY is required: the public key file of your root or issuer key (e.g. root.pub.json)',
    );
  }
  return Promise.all(paths.map((path) => readTrustKey(path)));
}

/**
 * Reads the `--log-key` values: each a log verifier key string
 * (`<origin>+<8 hex key ID>+<base64 key>`, as the store publishes it in `log.key` of
 * `GET /v1/keys`), or `@FILE` (or a FILE path) holding such keys one a line, blank lines
 * and `#` comments ignored. Each key's ID is checked against its name and key, so a key
 * pasted incompletely or under another name is a usage error here, not a `not_logged` later.
 * @throws UsageError
 */
export async function readLogKeys(
  values: readonly string[],
  flag = '--log-key',
): Promise<string[]> {
  const keys: string[] = [];
  for (const value of values) {
    const file = value.startsWith('@') ? value.slice(1) : value.includes('+') ? undefined : value;
    if (file === undefined) {
      keys.push(await checkedLogKey(value, `${flag} ${quote(value)}`));
      continue;
    }
    const text = await readTextFile(file, `${flag} file`, 64 * 1024);
    const lines = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'));
    if (lines.length === 0) {
      throw new UsageError(`${flag} ${file} holds no key; put the log's verifier key in it`);
    }
    for (const [i, line] of lines.entries()) {
      keys.push(await checkedLogKey(line, `${flag} ${file}, key ${i + 1},`));
    }
  }
  return keys;
}

async function checkedLogKey(text: string, where: string): Promise<string> {
  try {
    await parseVerifierKey(text);
    return text;
  } catch {
    throw new UsageError(
      `${where} is not a log verifier key (<origin>+<key ID>+<base64 key>); copy "log.key" from the store's /v1/keys whole`,
    );
  }
}
