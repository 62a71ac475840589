import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { base64urlDecode, defaultBackend, publicKeyBytes } from '@licensekit/core';
import type { NoteSigningKey, NoteVerifierKey } from '@licensekit/core/log';
import { formatVerifierKey, noteVerifierKey } from '@licensekit/core/log';
import { generateKeyPair, readPrivateKeyFile, writeKeyPair } from '@licensekit/issuer';
import { writeAtomically } from '@licensekit/verifier/node';

/**
 * The log key: signs the issuance log's checkpoints, and nothing else. It is not an issuer
 * key (a stolen issuer key must not be able to vouch for the log that would expose its
 * misuse), lives in dataDir/keys/log.json (0600) beside its origin (log.origin), and is
 * published on the keys endpoint as a signed-note verifier key.
 */
export interface LogKey {
  /** The log's origin: the first line of every checkpoint and the key's name. */
  origin: string;
  signing: NoteSigningKey;
  verifier: NoteVerifierKey;
  /** `<origin>+<key id>+<base64 key>`: what verifiers and auditors configure. */
  verifierKey: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** `host[:port]/licensekit/log` of the public URL: a schema-less, unique-enough origin. */
export function defaultLogOrigin(publicUrl: string): string {
  return `${new URL(publicUrl).host}/licensekit/log`;
}

/**
 * Loads the log key, generating it (and recording its origin) on first start. The origin
 * is fixed once the key exists: checkpoints under another origin would be another log.
 */
export async function loadLogKey(
  dataDir: string,
  configuredOrigin: string | undefined,
  publicUrl: string,
): Promise<LogKey> {
  const dir = join(dataDir, 'keys');
  const keyPath = join(dir, 'log.json');
  const originPath = join(dir, 'log.origin');
  if (!(await exists(keyPath))) await writeKeyPair(keyPath, await generateKeyPair());
  let origin = (await exists(originPath)) ? (await readFile(originPath, 'utf8')).trim() : undefined;
  if (configuredOrigin !== undefined && origin !== undefined && configuredOrigin !== origin) {
    throw new Error(
      `LICENSEKIT_LOG_ORIGIN is ${configuredOrigin} but this store's log is ${origin} (${originPath}); a log keeps its origin`,
    );
  }
  if (origin === undefined) {
    origin = configuredOrigin ?? defaultLogOrigin(publicUrl);
    await writeAtomically(originPath, `${origin}\n`);
  }
  const jwk = await readPrivateKeyFile(keyPath);
  const backend = await defaultBackend();
  const privateKey = await backend.importPrivateKey(base64urlDecode(jwk.d, 'log key'));
  const verifier = await noteVerifierKey(origin, publicKeyBytes(jwk));
  return {
    origin,
    signing: { name: origin, privateKey, backend },
    verifier,
    verifierKey: formatVerifierKey(verifier),
  };
}
