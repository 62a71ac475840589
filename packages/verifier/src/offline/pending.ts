import type { PendingRequest, StateData } from '../state/state.js';

/**
 * The offline requests a verifier has written and not yet seen answered, kept in its state
 * (`pendingRequests`). A response is installed only when it names one of them, by nonce
 * and request hash, so a response meant for another device or an earlier, abandoned
 * request of this one is refused. Steps here are synchronous: they run inside state
 * transactions.
 */

/**
 * How many unanswered requests are kept. A user may write a request, lose it and write
 * another; the oldest are forgotten first, and an answer to one of them is then refused
 * like any request this verifier never made.
 */
export const MAX_PENDING_REQUESTS = 8;

const NONCE = /^[A-Za-z0-9_-]{22}$/;
const HASH = /^[A-Za-z0-9_-]{43}$/;

function isPending(value: unknown): value is PendingRequest {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.nonce === 'string' &&
    NONCE.test(entry.nonce) &&
    typeof entry.hash === 'string' &&
    HASH.test(entry.hash) &&
    (entry.kind === 'activate' || entry.kind === 'refresh') &&
    typeof entry.at === 'number' &&
    Number.isSafeInteger(entry.at) &&
    (entry.license === undefined || typeof entry.license === 'string')
  );
}

/**
 * The well-formed pending requests of a state. The member is absent in states written
 * before offline activation, and the state file is the user's to edit: anything else than
 * a list of entries counts as none, and a damaged entry as not pending.
 */
export function pendingRequests(state: StateData): PendingRequest[] {
  const stored: unknown = state.pendingRequests;
  return Array.isArray(stored) ? stored.filter(isPending) : [];
}

/** Adds a request, keeping the newest MAX_PENDING_REQUESTS. Always changes the state. */
export function rememberRequest(state: StateData, entry: PendingRequest): void {
  const others = pendingRequests(state).filter((pending) => pending.nonce !== entry.nonce);
  state.pendingRequests = [...others, entry].slice(-MAX_PENDING_REQUESTS);
}

/** The pending request a response answers: the same nonce AND the same request hash. */
export function findRequest(
  state: StateData,
  nonce: string,
  hash: string,
): PendingRequest | undefined {
  return pendingRequests(state).find((pending) => pending.nonce === nonce && pending.hash === hash);
}

/** Forgets an answered request; returns whether it was there (whether the state changed). */
export function forgetRequest(state: StateData, nonce: string): boolean {
  const pending = pendingRequests(state);
  if (!pending.some((entry) => entry.nonce === nonce)) return false;
  const kept = pending.filter((entry) => entry.nonce !== nonce);
  if (kept.length === 0) delete state.pendingRequests;
  else state.pendingRequests = kept;
  return true;
}
