import { basename, dirname, join } from 'node:path';
import { MalformedError } from '@licensekit/core';
import type { OfflineRequest } from '@licensekit/core/offline';
import { readOfflineRequest } from '@licensekit/core/offline';
import { readResponseFile, writeRequestFile, writeRequestQrCodes } from '@licensekit/verifier/node';
import {
  createActivationRequest,
  createRefreshRequest,
  importOfflineResponse,
  UnusableTokenError,
} from '@licensekit/verifier/offline';
import { adminClient } from '../lib/admin-client.js';
import { EXIT, quote, UsageError } from '../lib/errors.js';
import { readTextFile, writeOutputFile } from '../lib/files.js';
import { table, when } from '../lib/format.js';
import type { Io } from '../lib/io.js';
import { openVerifier, type VerifierFlags } from '../lib/open-verifier.js';
import { emitDocument } from '../lib/output.js';
import { readToken } from '../lib/token-input.js';
import { summary } from './verify.js';

/**
 * `licensekit activation …`: licenses for machines that never go online. On the app
 * machine, `request` writes an activation (or refresh) request signed by the device key
 * and remembers it in the state file; `import` installs the store's response once its
 * token passes every check of verify. On a machine online, `respond` is the vendor's
 * support desk: it turns a request into a response through the store's admin API (a
 * customer uses the portal page instead).
 */

/** Flags of the app-side commands: a verifier with a device key and a state file. */
export interface ActivationAppFlags extends VerifierFlags {
  product: string;
  deviceKey: string;
}

export interface ActivationRequestFlags extends ActivationAppFlags {
  key?: string;
  hint?: string;
  /** The token held: a refresh request, or with --key/--hint an activation naming it. */
  token?: string;
  usage?: boolean;
  out?: string;
  qr?: string;
}

export interface ActivationImportFlags extends ActivationAppFlags {
  out?: string;
}

export interface ActivationRespondFlags {
  store?: string;
  token?: string;
  data?: string;
  license: string;
  out?: string;
}

/** A response holds a token (≤ 16 KiB) and a proof: a file much larger is the wrong file. */
const MAX_REQUEST_FILE = 64 * 1024;

/**
 * Where the pending request is remembered when --state is not given: beside the device
 * key, so that `request` and `import` with the same --device-key find the same state.
 */
function stateFile(flags: ActivationAppFlags): string {
  if (flags.state !== undefined) return flags.state;
  const key = basename(flags.deviceKey).replace(/\.json$/i, '');
  return join(dirname(flags.deviceKey), `${key}.state.json`);
}

async function openAppVerifier(flags: ActivationAppFlags) {
  if (flags.product.length === 0)
    throw new UsageError('--product is empty; give the product id of the app');
  const state = stateFile(flags);
  const opened = await openVerifier({ ...flags, state }, '');
  return { ...opened, state };
}

/** Errors of the verifier that are the user's to fix, as one-line UsageErrors. */
function userProblem(error: unknown): never {
  if (error instanceof UnusableTokenError) {
    throw new UsageError(
      `--token: the token is ${error.result.status} (${error.result.reason}) here; give a license of --product signed by a --trust key`,
    );
  }
  if (error instanceof MalformedError) throw new UsageError(error.message);
  throw error;
}

function describeRequest(request: OfflineRequest, state: string): string {
  const usage = request.usage as { quotas?: Record<string, { used: number }> } | undefined;
  return table([
    ['request', `${request.kind} for ${request.product}`],
    ['license', request.license ?? `the key ending ${request.keyHint} (hint only; never the key)`],
    ['key hint', request.license === undefined ? undefined : request.keyHint],
    ['seq held', request.seq < 0 ? 'none' : String(request.seq)],
    ['device', request.thumbprint],
    [
      'usage',
      usage?.quotas === undefined
        ? 'not reported'
        : Object.entries(usage.quotas)
            .map(([name, entry]) => `${name} ${entry.used}`)
            .join(', ') || 'no quotas',
    ],
    ['remembered in', state],
  ]);
}

/**
 * `licensekit activation request`: writes an activation request (--key or --hint) or a
 * refresh request (--token alone) for this device, remembers it in the state file, and
 * prints its text (or writes --out), with its QR codes in --qr.
 */
export async function activationRequest(flags: ActivationRequestFlags, io: Io): Promise<number> {
  if (flags.key !== undefined && flags.hint !== undefined)
    throw new UsageError('give --key or --hint, not both');
  if (flags.key === undefined && flags.hint === undefined && flags.token === undefined) {
    throw new UsageError(
      'give --key KEY (or --hint, its last four characters) to activate, or --token FILE to refresh the license held',
    );
  }
  if (flags.usage && flags.token === undefined) {
    throw new UsageError(
      '--usage reports the usage of a license: give the token held with --token FILE',
    );
  }
  if (flags.qr !== undefined && !/\.(svg|png)$/i.test(flags.qr))
    throw new UsageError(`--qr ${quote(flags.qr)}: give a file name ending in .svg or .png`);
  const token =
    flags.token === undefined ? undefined : await readToken({ file: flags.token }, io, 'token');
  const { verifier, state } = await openAppVerifier(flags);
  let request: OfflineRequest;
  try {
    if (flags.key !== undefined || flags.hint !== undefined) {
      request = await createActivationRequest(verifier, {
        ...(flags.key === undefined ? {} : { licenseKey: flags.key }),
        ...(flags.hint === undefined ? {} : { keyHint: flags.hint }),
        ...(token === undefined ? {} : { token }),
        usage: flags.usage === true,
      });
    } else {
      request = await createRefreshRequest(verifier, token as string, {
        usage: flags.usage === true,
      });
    }
  } catch (error) {
    userProblem(error);
  }
  if (flags.out === undefined) io.out(`${request.text}\n`);
  else {
    await writeRequestFile(flags.out, request);
    io.err(`wrote the request to ${flags.out}\n`);
  }
  if (flags.qr !== undefined) {
    const paths = await writeRequestQrCodes(flags.qr, request);
    io.err(
      paths.length === 1
        ? `wrote its QR code to ${paths[0]}\n`
        : `wrote its ${paths.length} QR codes, scan them all: ${paths.join(', ')}\n`,
    );
  }
  io.err(describeRequest(request, state));
  io.err(
    'Carry it to a machine online: the store portal (Offline activation), or the vendor with licensekit activation respond. Then: licensekit activation import … RESPONSE_FILE\n',
  );
  return EXIT.ok;
}

/**
 * `licensekit activation import RESPONSE_FILE`: installs the token of a response to a
 * request of this device, after every check of verify; writes the token to --out (else
 * prints it). Exit 0 installed, 1 refused (nothing installed).
 */
export async function activationImport(
  file: string,
  flags: ActivationImportFlags,
  io: Io,
): Promise<number> {
  const text =
    file === '-'
      ? await io.readStdin()
      : await readResponseFile(file).catch((error: unknown) => {
          throw new UsageError(
            `the response file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path`,
          );
        });
  const { verifier, state, productChecked, fixedNow, logRequired } = await openAppVerifier(flags);
  const outcome = await importOfflineResponse(verifier, text);
  if (!outcome.installed) {
    io.out(`NOT INSTALLED: ${outcome.reason}. ${outcome.message}\n`);
    if (outcome.result?.claims !== undefined) {
      io.out(summary(outcome.result, { productChecked, fixedNow, logRequired }));
    }
    if (outcome.reason === 'not_our_request') {
      io.out(
        `No request of this device in ${state} is answered by it: was the request written with the same --device-key and --state, and is this its answer?\n`,
      );
    }
    return EXIT.no;
  }
  if (flags.out === undefined) io.out(`${outcome.token}\n`);
  else {
    await writeOutputFile(flags.out, `${outcome.token}\n`);
    if (outcome.logProof !== undefined) {
      await writeOutputFile(`${flags.out}.proof.json`, `${JSON.stringify(outcome.logProof)}\n`);
    }
  }
  const report = (line: string) => (flags.out === undefined ? io.err(line) : io.out(line));
  report(`INSTALLED: the ${outcome.kind === 'activate' ? 'activation' : 'refresh'} answer.\n`);
  report(summary(outcome.result, { productChecked, fixedNow, logRequired }));
  if (flags.out !== undefined) {
    report(
      `wrote the token to ${flags.out}${outcome.logProof === undefined ? '' : ` and its log proof to ${flags.out}.proof.json`}\n`,
    );
  }
  return EXIT.ok;
}

/** What the store's offline endpoints answer (POST …/offline). */
interface StoreAnswer {
  response?: unknown;
  license?: { id?: unknown; product?: unknown };
  device?: { thumbprint?: unknown };
  usage?: unknown;
}

/**
 * `licensekit activation respond --license L REQUEST_FILE`: the support desk. Sends the
 * request (text, or QR parts one a line) to the store's admin endpoint
 * `POST /v1/admin/licenses/:license/offline` and prints the response (or writes --out)
 * for the customer to carry back.
 */
export async function activationRespond(
  file: string,
  flags: ActivationRespondFlags,
  io: Io,
): Promise<number> {
  const text = (
    file === '-' ? await io.readStdin() : await readTextFile(file, 'request file', MAX_REQUEST_FILE)
  ).trim();
  const lines = text.split(/\s+/).filter((line) => line.length > 0);
  const body = lines.every((line) => line.startsWith('LK1/'))
    ? { parts: lines }
    : { request: text };
  if ('request' in body) {
    // Checked here first, so a wrong file is named before anything is sent.
    await readOfflineRequest(text).catch((error: unknown) => {
      if (error instanceof MalformedError)
        throw new UsageError(`${file} is not an offline request: ${error.message}`);
      throw error;
    });
  }
  const client = await adminClient(flags);
  const answer = (await client.request(
    'POST',
    `/v1/admin/licenses/${encodeURIComponent(flags.license)}/offline`,
    body,
  )) as StoreAnswer;
  if (typeof answer.response !== 'string') {
    throw new UsageError(
      `the store at ${client.store} answered no response text; is it a licensekit store with offline activation?`,
    );
  }
  await emitDocument(answer.response, flags.out, io, 'the response');
  const now = Math.floor(Date.now() / 1000);
  io.err(
    table([
      ['license', typeof answer.license?.id === 'string' ? answer.license.id : flags.license],
      [
        'device',
        typeof answer.device?.thumbprint === 'string' ? answer.device.thumbprint : undefined,
      ],
      ['usage', answer.usage === undefined || answer.usage === null ? 'none reported' : 'recorded'],
      ['answered', when(now, now)],
    ]),
  );
  io.err(
    'Carry the response back to the app machine: licensekit activation import RESPONSE_FILE\n',
  );
  return EXIT.ok;
}
