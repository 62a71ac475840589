import type { Ed25519Backend } from '@licensekit/core';
import type { Engine } from './engine.js';
// Loaded with import(): only types and revocations.ts (itself free of imports), so a
// one-file bundle wraps nothing of the main graph (lazy-kit.ts).
import { checkRevocationList, RevocationView } from './revocations.js';
import type { TrustStore } from './trust.js';

export interface RevocationUpdate {
  accepted: boolean;
  /** `applied`, `not_newer`, or why the list itself was refused. */
  reason: 'applied' | 'not_newer' | 'malformed' | 'untrusted_key' | 'invalid_signature';
  /** The seq of the list in force after the call. */
  seq: number | undefined;
}

/**
 * Keeps the newest trusted revocation list: in memory for the synchronous checks, in the
 * state so it survives restarts. A stored list is re-verified when loaded (the state file
 * is writable by the user, who must not be able to plant a list with a huge seq that
 * would block every real one), and a list replaces another only with a higher seq.
 */
export class RevocationRegistry {
  current: RevocationView | undefined;
  /** The stored token as last read, verified or not: the compare-and-swap expectation. */
  private storedToken: string | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly trust: TrustStore,
    private readonly backend: Ed25519Backend,
  ) {}

  async load(initial: string | undefined): Promise<void> {
    await this.refreshFromState();
    if (initial !== undefined) {
      const outcome = await this.update(initial);
      if (!outcome.accepted && outcome.reason !== 'not_newer') {
        throw new this.engine.kit.ConfigError(
          `the revocations option is not a trusted revocation list (${outcome.reason})`,
        );
      }
    }
  }

  private async refreshFromState(): Promise<void> {
    const stored = await this.engine.state.transact(this.engine.product, (data) => ({
      changed: false,
      value: data.revocations?.token,
    }));
    this.storedToken = stored;
    if (stored === undefined || stored === this.current?.token) return;
    const view = await this.check(stored);
    this.current = view instanceof RevocationView ? view : undefined;
  }

  private check(token: string): ReturnType<typeof checkRevocationList> {
    return checkRevocationList(
      token,
      this.engine.decode,
      this.trust,
      this.backend,
      this.engine.kit,
    );
  }

  async update(token: string): Promise<RevocationUpdate> {
    const view = await this.check(token);
    if (!(view instanceof RevocationView))
      return { accepted: false, reason: view, seq: this.current?.claims.seq };
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.refreshFromState();
      if (this.current && view.claims.seq <= this.current.claims.seq) {
        return { accepted: false, reason: 'not_newer', seq: this.current.claims.seq };
      }
      const expected = this.storedToken;
      const swapped = await this.engine.state.transact(this.engine.product, (data) => {
        if (data.revocations?.token !== expected) return { changed: false, value: false };
        data.revocations = { token, seq: view.claims.seq };
        return { changed: true, value: true };
      });
      if (swapped) {
        this.current = view;
        this.storedToken = token;
        return { accepted: true, reason: 'applied', seq: view.claims.seq };
      }
    }
    return { accepted: false, reason: 'not_newer', seq: this.current?.claims.seq };
  }
}
