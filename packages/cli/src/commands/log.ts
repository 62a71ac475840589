import {
  type DecodedDocument,
  decodeDocument,
  LogProofError,
  MalformedError,
  tokenHash,
} from '@licensekit/core';
import { parseProofBundle, verifyLoggedEntry } from '@licensekit/core/log';
import { LOG_PROOF_PATH } from '@licensekit/verifier';
import { EXIT, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import { emitDocument } from '../lib/output.js';
import { readToken } from '../lib/token-input.js';
import { readLogKeys } from '../lib/trust.js';

export interface LogProofFlags {
  file?: string;
  store?: string;
  out?: string;
  logKey?: string[];
}

/** The store's answer, checked to be a bundle (the `kind` it adds aside). */
interface StoreBundle {
  bundle: Record<string, unknown>;
  kind: unknown;
}

function storeUrl(flag: string | undefined): string {
  const url = (flag ?? process.env.LICENSEKIT_STORE_URL ?? 'http://127.0.0.1:8787').replace(
    /\/+$/,
    '',
  );
  if (!URL.canParse(url)) {
    throw new UsageError(
      `--store ${url} is not a URL; give the store's address, e.g. https://store.example.com`,
    );
  }
  return url;
}

function documentOf(text: string): DecodedDocument {
  try {
    return decodeDocument(text);
  } catch (error) {
    if (!(error instanceof MalformedError)) throw error;
    throw new UsageError(
      `the token is not a licensekit document (${error.reason}); check that it was copied whole`,
    );
  }
}

/** GET /v1/log/proof?hash=…: the bundle, or undefined when the log has no such entry. */
async function fetchBundle(store: string, hash: string): Promise<StoreBundle | undefined> {
  let response: Response;
  try {
    response = await fetch(`${store}${LOG_PROOF_PATH}?hash=${hash}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new UsageError(`cannot reach the store at ${store}; is it running? (--store URL)`);
  }
  if (response.status === 404) return undefined;
  const reply = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const message = (reply as { error?: { message?: unknown } } | undefined)?.error?.message;
    throw new UsageError(
      `the store answered ${response.status}${typeof message === 'string' ? `: ${message}` : ''}`,
    );
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    throw new UsageError(
      `the store at ${store} did not answer a proof bundle; is it a licensekit store?`,
    );
  }
  const { kind, ...bundle } = reply as Record<string, unknown>;
  return { bundle, kind };
}

/**
 * `licensekit log proof (TOKEN | --file F) [--store URL] [--out FILE] [--log-key KEY]`: asks
 * the store's issuance log for the proof that the token (or certificate, or revocation
 * list) is in it, and writes the bundle an app keeps beside the token (`verify --log-proof`,
 * `verifier.verify(token, { logProof })`). With --log-key the proof is checked first and
 * nothing is written unless it holds. Exit 0 written, 1 not in the log or not checking,
 * 2 usage.
 */
export async function logProof(
  token: string | undefined,
  flags: LogProofFlags,
  io: Io,
): Promise<number> {
  const text = await readToken({ token, file: flags.file }, io);
  const document = documentOf(text);
  const store = storeUrl(flags.store);
  const logKeys = flags.logKey === undefined ? [] : await readLogKeys(flags.logKey);
  const answer = await fetchBundle(store, await tokenHash(document.bytes));
  if (answer === undefined) {
    io.err(
      `licensekit log proof: the log of ${store} has no entry for this ${document.kind}; was it issued by this store?\n`,
    );
    return EXIT.no;
  }
  let bundle: ReturnType<typeof parseProofBundle>;
  try {
    bundle = parseProofBundle(answer.bundle);
  } catch (error) {
    io.err(
      `licensekit log proof: the store's answer is not a proof bundle (${(error as Error).message})\n`,
    );
    return EXIT.no;
  }
  if (answer.kind !== undefined && answer.kind !== document.kind) {
    io.err(
      `licensekit log proof: the store's proof is for a ${String(answer.kind)}, not this ${document.kind}\n`,
    );
    return EXIT.no;
  }
  if (logKeys.length > 0) {
    try {
      await verifyLoggedEntry(document.bytes, document.kind, bundle, logKeys);
    } catch (error) {
      if (!(error instanceof LogProofError || error instanceof MalformedError)) throw error;
      io.err(
        `licensekit log proof: the store's proof does not check against --log-key (${error.reason}: ${error.message}); nothing written\n`,
      );
      return EXIT.no;
    }
  }
  const origin = bundle.checkpoint.slice(0, bundle.checkpoint.indexOf('\n'));
  await emitDocument(
    JSON.stringify({ ...bundle, kind: document.kind }, null, 2),
    flags.out,
    io,
    'the log proof',
  );
  io.err(
    `entry ${bundle.index} of ${bundle.treeSize} in ${origin}; ${logKeys.length > 0 ? 'checked against --log-key' : 'not checked: pass --log-key to check it'}\n`,
  );
  return EXIT.ok;
}
