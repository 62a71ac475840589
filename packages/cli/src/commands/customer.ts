import { hostname } from 'node:os';
import { decodeDocument, readLicenseClaims } from '@licensekit/core';
import type { RefreshOutcome, Verifier, VerifyResult } from '@licensekit/verifier';
import { createVerifier } from '@licensekit/verifier';
import {
  type CustomerPaths,
  type CustomerRecord,
  customerPaths,
  ensureStateDir,
  readCustomerRecord,
  writeCustomerRecord,
  writeCustomerToken,
} from '../lib/customer-state.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { json, table, when } from '../lib/format.js';
import type { Io } from '../lib/io.js';
import {
  activateOnStore,
  answerError,
  fetchStoreRoots,
  licenseKeyArgument,
  StoreRefusedError,
  StoreUnreachableError,
  storeUrlArgument,
} from '../lib/store-client.js';
import { readTrustKeys } from '../lib/trust.js';
import { summary } from './verify.js';

/**
 * `licensekit activate` and `licensekit refresh`: the command line as a customer's app.
 * `activate` binds this device (its key kept beside --state, 0600) to a license on the
 * store and keeps the token it answers; `refresh` asks the store for the next token of
 * the lineage with it. Both verify what the store sends, offline, against the root key
 * trusted (a --trust file, or the store's own pinned at activation), with the verifier
 * state of --state (rollback and clock defences, as in an app). The license key is sent
 * in a header and never printed or written.
 */

export interface ActivateFlags {
  store?: string;
  key: string;
  state: string;
  trust?: string[];
  product?: string;
  name?: string;
  json?: boolean;
}

export interface RefreshFlags {
  store?: string;
  state: string;
  force?: boolean;
  json?: boolean;
}

const DEFAULT_STORE = 'http://127.0.0.1:8787';

async function verifierFor(
  paths: CustomerPaths,
  record: Pick<CustomerRecord, 'trust' | 'product'>,
) {
  const { fileDeviceKey, fileState } = await import('@licensekit/verifier/node');
  return createVerifier({
    trust: { roots: record.trust },
    product: record.product,
    state: fileState(paths.state),
    device: await fileDeviceKey(paths.deviceKey),
  });
}

/** The `aud` of a token read without checks (the product, when --product was not given). */
function productOf(token: string): string | undefined {
  try {
    return readLicenseClaims(decodeDocument(token, 'license')).aud;
  } catch {
    return undefined;
  }
}

/** Prints a typed store failure and gives its exit code: 3 unreachable, 1 refused. */
function storeFailure(error: unknown, io: Io): number {
  if (error instanceof StoreUnreachableError) {
    io.err(`licensekit: ${error.message}\n`);
    return EXIT.unavailable;
  }
  if (error instanceof StoreRefusedError) {
    io.err(
      `licensekit: refused: ${error.message}${error.code === undefined ? '' : ` (${error.status} ${error.code})`}\n`,
    );
    if (error.checkoutUrl !== undefined) io.err(`  pay at ${error.checkoutUrl}\n`);
    return EXIT.no;
  }
  throw error;
}

const details = (result: VerifyResult) =>
  summary(result, { productChecked: true, fixedNow: undefined, logRequired: false });

/**
 * `licensekit activate --store URL --key KEY --state FILE`: exit 0 activated, 1 refused
 * (or the token does not verify here), 2 usage, 3 the store could not be reached.
 */
export async function activate(flags: ActivateFlags, io: Io): Promise<number> {
  const store = storeUrlArgument(flags.store ?? process.env.LICENSEKIT_STORE_URL ?? DEFAULT_STORE);
  const key = licenseKeyArgument(flags.key === '-' ? await io.readStdin() : flags.key);
  if (flags.product !== undefined && flags.product.length === 0)
    throw new UsageError('--product is empty; give the product id of the app');
  const name = flags.name ?? `licensekit on ${hostname()}`;
  if (name.length === 0 || name.length > 100)
    throw new UsageError('--name is the device name shown in the portal: 1 to 100 characters');
  const paths = customerPaths(flags.state);
  const given = flags.trust !== undefined && flags.trust.length > 0;
  const trust = given ? await readTrustKeys(flags.trust ?? []) : undefined;
  await ensureStateDir(paths);
  const { fileDeviceKey } = await import('@licensekit/verifier/node');
  const device = await fileDeviceKey(paths.deviceKey);

  let roots: CustomerRecord['trust'];
  let activation: Awaited<ReturnType<typeof activateOnStore>>;
  try {
    roots = trust ?? (await fetchStoreRoots(store));
    activation = await activateOnStore(store, key, device, name);
  } catch (error) {
    return storeFailure(error, io);
  }
  const product = flags.product ?? productOf(activation.token);
  if (product === undefined) {
    io.err('licensekit: refused: the store sent something that is not a license token\n');
    return EXIT.no;
  }
  const record: CustomerRecord = {
    version: 1,
    store,
    product,
    license: '',
    device: device.thumbprint,
    trust: roots,
    trustSource: given ? 'file' : 'store',
  };
  const verifier = await verifierFor(paths, record);
  const result = await verifier.verify(activation.token);
  if (flags.json) io.out(json({ activated: result.valid, device: activation.device, result }));
  if (!result.valid) {
    if (!flags.json) {
      io.out(`NOT ACTIVATED: the store's token does not verify on this device.\n`);
      io.out(details(result));
    }
    return EXIT.no;
  }
  record.license = result.claims?.sub ?? '';
  await writeCustomerToken(paths, activation.token);
  await writeCustomerRecord(paths, record);
  if (!flags.json) {
    io.out(
      `Activated: license ${record.license} on this device (${activation.device.name}, ${activation.device.id}).\n`,
    );
    io.out(details(result));
    io.out(
      table([
        ['token', paths.token],
        ['device key', `${paths.deviceKey} (0600; thumbprint ${device.thumbprint})`],
        ['state', paths.state],
        [
          'trusted root',
          `${roots.map((root) => root.kid).join(', ')} (${given ? 'from --trust' : `the store's /v1/keys, pinned; pass --trust FILE to use the key your vendor publishes`})`,
        ],
        ['test mode', activation.test ? 'yes (a test payment: not a real purchase)' : undefined],
      ]),
    );
    io.out(`Refresh with: licensekit refresh --state ${paths.state}\n`);
  }
  return EXIT.ok;
}

/** A refresh outcome the store refused or that failed, as output and an exit code. */
function refreshProblem(
  outcome: Extract<RefreshOutcome, { kind: 'refused' | 'failed' | 'backing_off' }>,
  failure: Error | undefined,
  io: Io,
): number {
  if (failure !== undefined) return storeFailure(failure, io);
  if (outcome.kind === 'refused') {
    io.err(`licensekit: refused (${outcome.httpStatus}): ${outcome.message}\n`);
    if (outcome.checkoutUrl !== undefined) io.err(`  pay at ${outcome.checkoutUrl}\n`);
    return EXIT.no;
  }
  if (outcome.kind === 'backing_off') {
    io.err(`licensekit: not now: try again after ${outcome.retryAt.toISOString()}\n`);
    return EXIT.unavailable;
  }
  io.err(`licensekit: refresh failed: ${outcome.error}\n`);
  return EXIT.no;
}

/**
 * `licensekit refresh --state FILE [--store URL] [--force]`: exit 0 refreshed or not due,
 * 1 refused or failed (the token held is kept), 2 usage, 3 the store could not be reached.
 */
export async function refresh(flags: RefreshFlags, io: Io): Promise<number> {
  const paths = customerPaths(flags.state);
  const { record, token } = await readCustomerRecord(paths);
  const store = storeUrlArgument(flags.store ?? record.store);
  const verifier: Verifier = await verifierFor(paths, record);
  // The verifier's refresh reports "failed" for both a store out of reach and a bad answer;
  // watching its requests tells them apart, with the store's own error code.
  let failure: Error | undefined;
  const watched: typeof fetch = async (input, init) => {
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch {
      failure = new StoreUnreachableError(
        `cannot reach the store at ${store}; is it running, and is --store right? The license keeps working offline until it ends; try again later`,
      );
      throw failure;
    }
    if (response.status >= 500 || [401, 404, 409, 429].includes(response.status)) {
      failure = answerError(
        store,
        response.status,
        await response
          .clone()
          .json()
          .catch(() => undefined),
      );
    }
    return response;
  };
  const outcome = await verifier.refreshIfDue(token, {
    storeUrl: store,
    force: flags.force === true,
    fetch: watched,
  });
  if (flags.json) io.out(json(outcome));
  switch (outcome.kind) {
    case 'refreshed': {
      await writeCustomerToken(paths, outcome.token);
      if (store !== record.store) await writeCustomerRecord(paths, { ...record, store });
      if (!flags.json) {
        io.out(`Refreshed: license ${record.license}, the new token is in ${paths.token}.\n`);
        io.out(details(outcome.result));
      }
      return EXIT.ok;
    }
    case 'not_due': {
      if (!flags.json) {
        const now = Math.floor(outcome.result.checkedAt.getTime() / 1000);
        const from = outcome.result.refreshAfter;
        io.out(
          `Not due: the token asks to be refreshed ${from === null ? 'only when it ends' : `from ${when(from, now)}`}; --force refreshes now.\n`,
        );
        io.out(details(outcome.result));
      }
      return outcome.result.valid ? EXIT.ok : EXIT.no;
    }
    default:
      return refreshProblem(outcome, failure, io);
  }
}
