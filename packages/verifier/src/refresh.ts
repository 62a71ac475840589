import type { VerifyResult } from './result.js';
import type { LogProof } from './types.js';

/** How the app reaches its store; `fetch` is injectable for tests, proxies and Electron. */
export interface RefreshOptions {
  /** Base URL of the store, e.g. https://store.example.com */
  storeUrl: string;
  fetch?: typeof fetch;
  /** Refresh even if the token is not due yet. */
  force?: boolean;
  /** Abort the request after this many ms. Default 10 000. */
  timeoutMs?: number;
  /**
   * With `requireLogProof`: the current token's log proof. Without it the current token is
   * `not_logged`, which is not due (`force` still asks).
   */
  logProof?: LogProof | undefined;
}

export type RefreshOutcome =
  /**
   * A newer token of the same lineage was received, verified and recorded. With
   * `requireLogProof`, `logProof` is the proof it was accepted with: keep it beside the token.
   */
  | { kind: 'refreshed'; token: string; logProof?: LogProof; result: VerifyResult }
  /** Nothing to do: the token is not due for refresh. */
  | { kind: 'not_due'; result: VerifyResult }
  /** A previous attempt failed recently; the next try is allowed at `retryAt`. */
  | { kind: 'backing_off'; retryAt: Date; result: VerifyResult }
  /** The store answered with a refusal (402 payment required, 403 revoked, 404 unknown). */
  | {
      kind: 'refused';
      httpStatus: number;
      message: string;
      checkoutUrl?: string;
      result: VerifyResult;
    }
  /** The store could not be reached or sent something unusable; the app keeps working until grace ends. */
  | { kind: 'failed'; error: string; retryAt: Date; result: VerifyResult };

/** The refresh endpoint of the reference store (packages/store). */
export const REFRESH_PATH = '/v1/licenses/refresh';

/**
 * The reference store's proof endpoint: `GET …?hash=<base64url SHA-256 of the token's
 * bytes>` answers a proof bundle (with `kind`) under its newest checkpoint.
 */
export const LOG_PROOF_PATH = '/v1/log/proof';

/** A store endpoint relative to its base URL, keeping its path (https://vendor.example/licensing). */
export function endpoint(storeUrl: string, path: string): string {
  return new URL(path.slice(1), storeUrl.replace(/\/*$/, '/')).toString();
}

const DUE: ReadonlySet<string> = new Set(['refresh_due', 'grace', 'expired']);

/**
 * Exponential backoff between failed attempts: 1 min, 2, 4 … capped at 6 h, with ±20 %
 * jitter so a fleet of apps that went offline together does not return together.
 */
export class Backoff {
  private failures = 0;
  private until = 0;

  constructor(
    private readonly baseMs = 60_000,
    private readonly maxMs = 6 * 3_600_000,
    private readonly random: () => number = Math.random,
  ) {}

  blockedUntil(nowMs: number): number | undefined {
    return nowMs < this.until ? this.until : undefined;
  }

  fail(nowMs: number): number {
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures++;
    this.until = nowMs + Math.round(delay * (0.8 + 0.4 * this.random()));
    return this.until;
  }

  succeed(): void {
    this.failures = 0;
    this.until = 0;
  }
}

export function isDue(result: VerifyResult, now: number): boolean {
  if (DUE.has(result.status)) return true;
  return result.pendingChange !== undefined && result.pendingChange.at.getTime() <= now;
}
