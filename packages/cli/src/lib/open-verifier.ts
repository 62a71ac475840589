import { decodeDocument, readLicenseClaims } from '@licensekit/core';
import {
  createVerifier,
  type Verifier,
  type VerifierOptions,
  type VerifyResult,
} from '@licensekit/verifier';
import { enableLogProofs } from '@licensekit/verifier/log-proofs';
import { quote, UsageError } from './errors.js';
import { fileExists, readTextFile } from './files.js';
import { parseTime } from './time.js';
import { readLogKeys, readTrustKeys } from './trust.js';

/** The flags `verify` and `consume` share. */
export interface VerifierFlags {
  trust?: string[] | undefined;
  product?: string | undefined;
  now?: string | undefined;
  state?: string | undefined;
  revocations?: string | undefined;
  deviceKey?: string | undefined;
  /** Log verifier keys (or @files of them): the license must come with a log proof. */
  logKey?: string[] | undefined;
}

export interface OpenedVerifier {
  verifier: Verifier;
  product: string;
  /** False when --product was not given and the token's own product was used. */
  productChecked: boolean;
  /** The fixed clock of --now, in seconds, or undefined for the system clock. */
  fixedNow: number | undefined;
  /** True with --log-key: the verifier requires an issuance log proof. */
  logRequired: boolean;
}

/** The `aud` of a license token, read without any check, or undefined when it has none. */
function ownProduct(token: string): string | undefined {
  try {
    return readLicenseClaims(decodeDocument(token, 'license')).aud;
  } catch {
    return undefined;
  }
}

/**
 * Builds the verifier the flags describe. A `--trust` key is trusted both as a root (it may
 * certify issuer keys) and as an issuer (it may sign licenses itself), so one flag serves
 * both set-ups. Without --product, the token's own product is used, which checks
 * everything but the product (the summary says so). With `--log-key` the verifier requires
 * an issuance log proof (`requireLogProof`): the caller passes it to each check.
 * @throws UsageError
 */
export async function openVerifier(flags: VerifierFlags, token: string): Promise<OpenedVerifier> {
  const fixedNow = flags.now === undefined ? undefined : parseTime(flags.now, '--now');
  if (flags.product !== undefined && flags.product.length === 0) {
    throw new UsageError('--product is empty; give the product id of the app');
  }
  const keys = await readTrustKeys(flags.trust ?? []);
  const logKeys = flags.logKey === undefined ? [] : await readLogKeys(flags.logKey);
  const options: VerifierOptions = {
    trust:
      logKeys.length > 0 ? { roots: keys, issuers: keys, logKeys } : { roots: keys, issuers: keys },
    // Never empty: a token without a readable product is reported as malformed anyway.
    product: flags.product ?? ownProduct(token) ?? '(unknown)',
  };
  if (logKeys.length > 0) {
    // The log-proof checker is the verifier's opt-in (a separate entry that keeps app bundles small).
    enableLogProofs();
    options.requireLogProof = true;
  }
  if (fixedNow !== undefined) options.clock = () => fixedNow * 1000;
  if (flags.state !== undefined) {
    const { fileState } = await import('@licensekit/verifier/node');
    options.state = fileState(flags.state);
  }
  if (flags.deviceKey !== undefined) {
    if (!(await fileExists(flags.deviceKey))) {
      throw new UsageError(
        `--device-key ${flags.deviceKey} does not exist; create the device key with licensekit keygen --out ${flags.deviceKey}`,
      );
    }
    const { fileDeviceKey } = await import('@licensekit/verifier/node');
    options.device = await fileDeviceKey(flags.deviceKey);
  }
  const verifier = createVerifier(options);
  if (flags.revocations !== undefined) {
    const list = (await readTextFile(flags.revocations, '--revocations file')).trim();
    const update = await verifier.updateRevocations(list);
    if (!update.accepted && update.reason !== 'not_newer') {
      const why =
        update.reason === 'malformed'
          ? 'it is not a revocation list'
          : update.reason === 'untrusted_key'
            ? 'it is not signed by a --trust key'
            : 'its signature does not match its content';
      throw new UsageError(
        `--revocations ${quote(flags.revocations)}: ${why}; give a list made by licensekit revoke`,
      );
    }
  }
  return {
    verifier,
    product: options.product,
    productChecked: flags.product !== undefined,
    fixedNow,
    logRequired: logKeys.length > 0,
  };
}

/** The one-line error for a token that is not a license token (status malformed). */
export function malformedInput(result: VerifyResult): UsageError {
  return new UsageError(
    `the token is not a well-formed license (${result.reason}: ${result.message.replace(/\.$/, '')}); check that it was copied whole and is a license, not a certificate or revocation list`,
  );
}
