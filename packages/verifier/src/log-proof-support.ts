import type { Ed25519Backend } from '@licensekit/core';
import { ConfigError } from '@licensekit/core';
import type { Accepted } from './acceptor.js';
import type { LogProofs } from './log-proof-loader.js';
import type { LogProofChecker } from './log-proofs.js';
import type { VerifierOptions } from './types.js';
import type { Verdict } from './verdict.js';

/**
 * The log-proof support a verifier gets once the app called `enableLogProofs()`: the
 * options checked at construction, the checker (log-proofs.ts, with core's log code)
 * imported on first use — a chunk of its own where the bundler splits code.
 */
class LogProofSupport implements LogProofs {
  readonly #keys: readonly string[];
  #checker: Promise<LogProofChecker> | undefined;

  constructor(keys: readonly string[]) {
    this.#keys = keys;
  }

  async verdict(
    accepted: Accepted,
    proof: unknown,
    backend: Ed25519Backend,
  ): Promise<Verdict | undefined> {
    if (this.#checker === undefined) {
      const loading = import('./log-proofs.js').then(({ LogProofChecker }) =>
        LogProofChecker.create(this.#keys, backend),
      );
      // A failure (keys that do not parse) is reported to this call and tried again on the next.
      loading.catch(() => {
        if (this.#checker === loading) this.#checker = undefined;
      });
      this.#checker = loading;
    }
    return (await this.#checker).check(accepted, proof);
  }

  async fetch(...args: Parameters<LogProofs['fetch']>): ReturnType<LogProofs['fetch']> {
    const { fetchLogProof } = await import('./log-proofs.js');
    return fetchLogProof(...args);
  }
}

/**
 * `requireLogProof` and `trust.logKeys` of a verifier that requires proofs, checked at
 * construction (the main entry has checked that `requireLogProof` is set). The key strings
 * are parsed, key IDs checked, on first use.
 * @throws ConfigError
 */
export function createLogProofs(options: VerifierOptions): LogProofs {
  if (options.requireLogProof !== true) throw new ConfigError('requireLogProof is a boolean');
  const keys = options.trust?.logKeys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((key) => typeof key !== 'string')) {
    throw new ConfigError('requireLogProof needs trust.logKeys, the log verifier keys');
  }
  return new LogProofSupport([...keys]);
}
