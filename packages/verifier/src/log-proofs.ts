import type { Ed25519Backend } from '@licensekit/core';
// Core's issuance-log primitives, the code the store and the auditor use.
import {
  ConfigError,
  LogProofError,
  MalformedError,
  parseStrictJson,
  tokenHash,
} from '@licensekit/core';
import {
  type NoteVerifierKey,
  parseProofBundle,
  parseVerifierKey,
  verifyLoggedEntry,
} from '@licensekit/core/log';
import type { Accepted } from './acceptor.js';
import type { Decode } from './decode.js';
import { LOG_PROOF_MESSAGES, type NotLoggedReason } from './log-messages.js';
import type { RefreshOptions } from './refresh.js';
import { endpoint, LOG_PROOF_PATH } from './refresh.js';
import { Verdict } from './verdict.js';

/**
 * The proof bundle text is JSON of a few hashes and one signed note (core caps the note at
 * 16 KiB and the path at 64 hashes): anything much longer is not a bundle, and is not parsed.
 */
const MAX_PROOF_TEXT = 32 * 1024;

function notLogged(reason: NotLoggedReason): Verdict {
  return new Verdict('not_logged', reason, LOG_PROOF_MESSAGES[reason]);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The bundle from what the caller passed: an object or its JSON text, as the store's
 * `GET /v1/log/proof` returns it, whose `kind` member (when present) must say license.
 * Core's `parseProofBundle` then checks the four bundle members strictly.
 * @throws MalformedError
 */
function bundleOf(input: unknown): unknown {
  let value = input;
  if (typeof input === 'string') {
    if (input.length > MAX_PROOF_TEXT) {
      throw new MalformedError('too_large', `a log proof is at most ${MAX_PROOF_TEXT} characters`);
    }
    // Strict (duplicate members refused), like every other document the verifier reads.
    value = parseStrictJson(input, { maxDepth: 3, what: 'log proof' });
  }
  if (!isObject(value) || !Object.hasOwn(value, 'kind')) return value;
  const { kind, ...bundle } = value;
  if (kind !== 'license') {
    throw new MalformedError('bad_proof', `the proof is for a ${String(kind)}, not a license`);
  }
  return bundle;
}

/**
 * Checks issuance log proofs for `requireLogProof` (loaded on first use: a chunk of its own
 * in browser bundles, so apps that do not require proofs never load the log code). Web
 * APIs only, through core's log primitives, so it runs wherever the verifier does.
 */
export class LogProofChecker {
  readonly #keys: readonly NoteVerifierKey[];
  readonly #backend: Ed25519Backend;
  /**
   * The bundle that last verified for a trusted token, by its canonical text: re-checking
   * a token with the same proof (the Acceptor caches tokens) costs no signature check. A
   * proof's verdict depends only on the document, the bundle and the keys, never the time.
   */
  readonly #verified = new WeakMap<Accepted, string>();

  private constructor(keys: readonly NoteVerifierKey[], backend: Ed25519Backend) {
    this.#keys = keys;
    this.#backend = backend;
  }

  /**
   * Parses the key strings, checking each key ID against its name and key.
   * @throws ConfigError naming the key at fault
   */
  static async create(keys: readonly string[], backend: Ed25519Backend): Promise<LogProofChecker> {
    const parsed = await Promise.all(
      keys.map((key, i) =>
        parseVerifierKey(key).catch((error: unknown) => {
          const why = error instanceof Error ? error.message : String(error);
          throw new ConfigError(`trust.logKeys[${i}]: ${why}`);
        }),
      ),
    );
    return new LogProofChecker(parsed, backend);
  }

  /**
   * The `not_logged` verdict for a trusted token without a valid proof, or undefined when
   * the proof shows the token in a log signed by a trusted key. Never throws for a bad proof.
   */
  async check(accepted: Accepted, proof: unknown): Promise<Verdict | undefined> {
    if (proof === undefined || proof === null) return notLogged('log_proof_missing');
    try {
      const bundle = parseProofBundle(bundleOf(proof));
      const canonical = JSON.stringify(bundle);
      if (this.#verified.get(accepted) === canonical) return undefined;
      await verifyLoggedEntry(accepted.bytes, 'license', bundle, this.#keys, {
        backend: this.#backend,
      });
      this.#verified.set(accepted, canonical);
      return undefined;
    } catch (error) {
      if (error instanceof LogProofError) {
        switch (error.reason) {
          case 'not_included':
            return notLogged('not_included');
          case 'invalid_signature':
            // A trusted key's signature over other text: the checkpoint was edited.
            return notLogged('log_proof_invalid');
          default:
            // No trusted signature, or a trusted key signing for another log's origin.
            return notLogged('log_key_untrusted');
        }
      }
      if (error instanceof MalformedError) return notLogged('log_proof_invalid');
      throw error;
    }
  }
}

/**
 * The log proof of a token received from the store on refresh: the one the refresh answer
 * carries, else the store's proof endpoint (LOG_PROOF_PATH), asked by the token's hash. A
 * proof that turns out wrong is caught by the check that follows; here only getting one
 * can fail (`error`: the refresh outcome's sentence). Here rather than in refresh-run.ts
 * so that only apps with log proofs carry it.
 */
export async function fetchLogProof(
  decode: Decode,
  token: string,
  carried: unknown,
  options: RefreshOptions,
): Promise<{ proof?: unknown; error?: string }> {
  if (carried !== undefined) return { proof: carried };
  let hash: string;
  try {
    hash = await tokenHash(decode(token, 'license').bytes);
  } catch {
    return {}; // not a license at all: the check reports it
  }
  try {
    const response = await (options.fetch ?? fetch)(
      `${endpoint(options.storeUrl, LOG_PROOF_PATH)}?hash=${hash}`,
      {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      },
    );
    if (response.status !== 200)
      return {
        error: `the store sent a token but its log proof: the store answered ${response.status}`,
      };
    return { proof: await response.json() };
  } catch (error) {
    return {
      error: `the store sent a token but its log proof could not be fetched (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}
