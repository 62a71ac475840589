import type { Ed25519Backend } from '@licensekit/core';
import { defaultVerifyBackend } from '@licensekit/core';
import type { Accepted } from './acceptor.js';
import { Acceptor, hashOf } from './acceptor.js';
import type { Decode } from './decode.js';
import { describe } from './describe.js';
import { evaluate, recordAcceptance } from './evaluate.js';
import { lazyKit } from './lazy-kit.js';
import type { LedgerEntry } from './ledger.js';
import { usageSnapshot } from './ledger.js';
import { type LogProofs, readLogProofs } from './log-proof-loader.js';
import type { MaybePromise } from './maybe-async.js';
import { andThen } from './maybe-async.js';
import type { VerifyResult } from './result.js';
import { isValidStatus, rejection } from './result.js';
import type { RevocationRegistry } from './revocation-registry.js';
import type { EngineSettings } from './settings.js';
import { readClock, readEngineSettings } from './settings.js';
import { memoryState } from './state/memory.js';
import type { StateData, StateStore } from './state/state.js';
import { emptyState } from './state/state.js';
import { TrustStore } from './trust.js';
import type { VerifierOptions } from './types.js';
import { Verdict } from './verdict.js';

/** What one check of a token found: the result, the ledger, and the trusted token if any. */
export interface Checked {
  result: VerifyResult;
  usage: Record<string, LedgerEntry>;
  accepted?: Accepted;
}

interface Ready {
  acceptor: Acceptor;
  trust: TrustStore;
  backend: Ed25519Backend;
}

/** How `decide` runs beyond the verdict. */
export interface DecideOptions<T> {
  /** Runs in the same critical section when the token is valid (a quota spend). */
  action?: ((state: StateData) => { changed: boolean; value: T }) | undefined;
  /** False: read the marks, never move them (a refreshed token under examination). */
  record?: boolean | undefined;
  /** The token's issuance log proof, read only with `requireLogProof`. */
  logProof?: unknown;
}

/**
 * The verification core behind every Verifier method: configuration (validated at
 * construction, so misuse throws at createVerifier), lazy set-up of the backend and trust
 * anchors, and the two-phase check — bytes (decode, key, signature: Acceptor) then state
 * (revocation, product, device, rollback, clock, time: one state transaction).
 * Optional features (revocation lists, refresh, usage reports) load on first use.
 */
export class Engine {
  readonly product: string;
  readonly device: VerifierOptions['device'];
  readonly state: StateStore;
  readonly stateless: boolean;
  /** The log-proof support (enableLogProofs) when `requireLogProof` is on. */
  readonly logProofs: LogProofs | undefined;
  // Members only the engine reads are # private: minifiers rename those, not `private` ones.
  readonly #settings: EngineSettings;
  #ready: Promise<Ready> | undefined;
  /** What #ready resolved to: calls after the first need not wait a turn for it. */
  #readyNow: Ready | undefined;
  revocations: RevocationRegistry | undefined;
  /** The main-graph functions the lazily loaded features use (see lazy-kit.ts). */
  readonly kit = lazyKit;
  #revocationsLoading: Promise<RevocationRegistry> | undefined;
  readonly #options: VerifierOptions;

  readonly decode: Decode;

  constructor(decode: Decode, options: VerifierOptions) {
    this.decode = decode;
    this.#options = options;
    this.#settings = readEngineSettings(options);
    this.logProofs = readLogProofs(options);
    this.product = this.#settings.product;
    this.device = this.#settings.device;
    this.stateless = options.state === false;
    this.state =
      options.state === false || options.state === undefined ? memoryState() : options.state;
  }

  /** Backend, trust anchors and (when there is one) the revocation list: once, on first use. */
  getReady(): Promise<Ready> {
    this.#ready ??= (async () => {
      const backend = this.#options.backend ?? (await defaultVerifyBackend());
      const trust = await TrustStore.create(this.#settings.anchors, backend, this.decode);
      const ready = {
        acceptor: new Acceptor(
          this.decode,
          trust,
          backend,
          this.#settings.leeway,
          this.#settings.cacheSize,
        ),
        trust,
        backend,
      };
      const stored = await this.state.transact(this.product, (data) => ({
        changed: false,
        value: data.revocations,
      }));
      if (stored !== undefined || this.#options.revocations !== undefined) {
        await this.loadRevocations(ready);
      }
      this.#readyNow = ready;
      return ready;
    })();
    this.#ready.catch(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }

  /** The revocation registry, loaded (a chunk of its own in browser bundles) when needed. */
  loadRevocations(ready: Ready): Promise<RevocationRegistry> {
    this.#revocationsLoading ??= (async () => {
      // A dynamic import: a chunk of its own where the bundler splits code.
      const { RevocationRegistry } = await import('./revocation-registry.js');
      const registry = new RevocationRegistry(this, ready.trust, ready.backend);
      await registry.load(this.#options.revocations);
      this.revocations = registry;
      return registry;
    })();
    return this.#revocationsLoading;
  }

  clock(): { now: number; checkedAt: Date } {
    return readClock(this.#settings);
  }

  /** Phase one for a token: the trusted token, or the result that rejects it. */
  accept(token: unknown, now: number, checkedAt: Date): MaybePromise<Accepted | VerifyResult> {
    if (typeof token !== 'string' && !(token instanceof Uint8Array)) {
      return rejection(
        'malformed',
        'bad_structure',
        'A license token is a string or bytes.',
        checkedAt,
      );
    }
    const accepted = andThen(this.#readyNow ?? this.getReady(), ({ acceptor }) =>
      acceptor.accept(token, now),
    );
    return andThen(accepted, (outcome) =>
      outcome instanceof Verdict
        ? rejection(outcome.status, outcome.reason, outcome.message, checkedAt)
        : outcome,
    );
  }

  /**
   * Phase two: the log proof when required (asynchronous, so before the transaction),
   * then, in one state transaction so the marks read are the marks written, evaluate, and
   * when valid move the marks and run `action` (a quota spend) in the same critical section.
   */
  decide<T>(
    accepted: Accepted,
    now: number,
    checkedAt: Date,
    options: DecideOptions<T> = {},
  ): MaybePromise<Checked & { actionValue?: T }> {
    // The `not_logged` verdict, or undefined when the proof holds or none is required. The
    // checker comes with the opt-in (enableLogProofs); key strings that do not parse
    // reject this call with ConfigError.
    const logProofs = this.logProofs;
    if (logProofs === undefined) return this.#decideWith(accepted, now, checkedAt, options);
    return (async () => {
      const { backend } = await this.getReady();
      const unlogged = await logProofs.verdict(accepted, options.logProof, backend);
      return this.#decideWith(accepted, now, checkedAt, options, unlogged);
    })();
  }

  #decideWith<T>(
    accepted: Accepted,
    now: number,
    checkedAt: Date,
    options: DecideOptions<T>,
    unlogged?: Verdict,
  ): MaybePromise<Checked & { actionValue?: T }> {
    const { action, record = true } = options;
    const view = this.revocations?.current;
    const context = {
      now,
      leeway: this.#settings.leeway,
      clockTolerance: this.#settings.clockTolerance,
      product: this.product,
      device: this.device?.thumbprint,
      revocations: view,
      unlogged,
    };
    interface Decision {
      verdict: Verdict;
      usage: Record<string, LedgerEntry>;
      actionValue?: T | undefined;
    }
    const decideOn = (data: StateData): { changed: boolean; value: Decision } => {
      const verdict = evaluate(data, accepted, context);
      if (!isValidStatus(verdict.status)) {
        return {
          changed: false,
          value: { verdict, usage: usageSnapshot(data, accepted.claims, now) },
        };
      }
      let changed = record && !this.stateless && recordAcceptance(data, accepted, now);
      let actionValue: T | undefined;
      if (action) {
        const step = action(data);
        changed = step.changed || changed;
        actionValue = step.value;
      }
      return {
        changed: changed && !this.stateless,
        value: { verdict, usage: usageSnapshot(data, accepted.claims, now), actionValue },
      };
    };
    const checked = (outcome: Decision): Checked & { actionValue?: T } => {
      const result = describe(accepted, outcome.verdict, outcome.usage, checkedAt, now);
      if (result.valid && view?.isStale(now)) result.warnings.push('revocation_list_stale');
      const done: Checked & { actionValue?: T } = { result, usage: outcome.usage, accepted };
      if (outcome.actionValue !== undefined) done.actionValue = outcome.actionValue;
      return done;
    };
    // Stateless: fresh marks, never kept, so there is no transaction to wait for.
    if (this.stateless) return checked(decideOn(emptyState(this.product)).value);
    // The rollback check compares hashes; a stateless verifier has no marks to compare.
    return hashOf(accepted)
      .then(() => this.state.transact<Decision>(this.product, decideOn))
      .then(checked);
  }

  /**
   * Verifies a token. With `record` false the marks are read but never moved (a token
   * received from the store is examined before it is accepted into the lineage).
   */
  check(token: unknown, options: DecideOptions<never> = {}): MaybePromise<Checked> {
    const { now, checkedAt } = this.clock();
    return andThen(this.accept(token, now, checkedAt), (accepted) =>
      'valid' in accepted
        ? { result: accepted, usage: {} }
        : this.decide(accepted, now, checkedAt, options),
    );
  }
}
