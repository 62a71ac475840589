import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Ed25519PublicJwk } from '@licensekit/core';
import { parsePublicJwk, parseStrictJson } from '@licensekit/core';
import { writeAtomically } from '@licensekit/verifier/node';
import { UsageError } from './errors.js';
import { fileProblem } from './files.js';

/**
 * What `licensekit activate` keeps for `licensekit refresh`, beside the verifier state
 * file given to `--state FILE` (the same file `verify --state` reads): for
 * `app/license-state.json`,
 *
 * - `app/license-state.device.json`: this device's private key (0600, made on first use);
 * - `app/license-state.token`: the current token (`verify --file` reads it);
 * - `app/license-state.license.json`: the store, the product, the license, and the root
 *   keys trusted (pinned at activation).
 *
 * The directory is made 0700. The license key is never written: a refresh needs only the
 * token and the device key.
 */
export interface CustomerPaths {
  state: string;
  deviceKey: string;
  token: string;
  record: string;
}

export function customerPaths(stateFile: string): CustomerPaths {
  const dir = dirname(stateFile);
  const base = basename(stateFile).replace(/\.json$/i, '');
  return {
    state: stateFile,
    deviceKey: join(dir, `${base}.device.json`),
    token: join(dir, `${base}.token`),
    record: join(dir, `${base}.license.json`),
  };
}

/** What `refresh` needs to know besides the token. */
export interface CustomerRecord {
  version: 1;
  store: string;
  product: string;
  license: string;
  /** The device's thumbprint (the `cnf` of its tokens). */
  device: string;
  /** The root keys trusted: a --trust file's, or the store's pinned at activation. */
  trust: (Ed25519PublicJwk & { kid: string })[];
  /** Where `trust` came from: a file the customer gave, or the store (trust on first use). */
  trustSource: 'file' | 'store';
}

/** Makes the state's directory (0700) when missing. */
export async function ensureStateDir(paths: CustomerPaths): Promise<void> {
  const dir = dirname(paths.state);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileProblem(error, dir, 'write', 'directory');
  }
}

export async function writeCustomerRecord(
  paths: CustomerPaths,
  record: CustomerRecord,
): Promise<void> {
  try {
    await writeAtomically(paths.record, `${JSON.stringify(record, null, 2)}\n`);
  } catch (error) {
    throw fileProblem(error, paths.record, 'write', 'license file');
  }
}

export async function writeCustomerToken(paths: CustomerPaths, token: string): Promise<void> {
  try {
    await writeAtomically(paths.token, `${token}\n`);
  } catch (error) {
    throw fileProblem(error, paths.token, 'write', 'token file');
  }
}

const notActivated = (paths: CustomerPaths, what: string) =>
  new UsageError(
    `${what}: nothing to refresh with --state ${paths.state}; activate first: licensekit activate --store URL --key KEY --state ${paths.state}`,
  );

/**
 * Reads what `activate` wrote. @throws UsageError when it is missing or damaged
 */
export async function readCustomerRecord(
  paths: CustomerPaths,
): Promise<{ record: CustomerRecord; token: string }> {
  let text: string;
  let token: string;
  try {
    text = await readFile(paths.record, 'utf8');
    token = (await readFile(paths.token, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw notActivated(paths, `${paths.record} or ${paths.token} does not exist`);
    throw fileProblem(error, paths.record, 'read', 'license file');
  }
  const damaged = () =>
    new UsageError(
      `${paths.record} is damaged; activate again (licensekit activate --store URL --key KEY --state ${paths.state})`,
    );
  let value: Partial<CustomerRecord>;
  try {
    value = parseStrictJson(text, { maxDepth: 4 }) as Partial<CustomerRecord>;
  } catch {
    throw damaged();
  }
  if (
    value.version !== 1 ||
    typeof value.store !== 'string' ||
    typeof value.product !== 'string' ||
    typeof value.license !== 'string' ||
    typeof value.device !== 'string' ||
    (value.trustSource !== 'file' && value.trustSource !== 'store') ||
    !Array.isArray(value.trust) ||
    value.trust.length === 0 ||
    token.length === 0
  ) {
    throw damaged();
  }
  let trust: CustomerRecord['trust'];
  try {
    trust = value.trust.map((jwk) => ({
      ...parsePublicJwk(jwk, 'a pinned root key'),
      kid: String((jwk as { kid?: unknown }).kid),
    }));
  } catch {
    throw damaged();
  }
  return { record: { ...(value as CustomerRecord), trust }, token };
}
