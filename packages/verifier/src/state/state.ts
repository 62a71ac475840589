/**
 * The verifier's persisted state (DESIGN.md "Verifier state"): what makes offline checks
 * honest on a machine the customer controls. Plain JSON so every adapter can store it.
 */
export interface StateData {
  version: 1;
  /** The product this state belongs to; one state per product. */
  product: string;
  /** Highest trusted time seen, in seconds. Never decreases. */
  highWater: number;
  /** Per license (`sub`): the highest accepted `seq` and the SHA-256 of that token. */
  licenses: Record<string, AcceptedToken>;
  /** Per license, per quota: units used in the window that starts at `window`. */
  usage: Record<string, Record<string, QuotaUsage>>;
  /** The newest trusted revocation list, as its token, with its `seq`. */
  revocations?: { token: string; seq: number };
  /**
   * Offline requests written and not yet answered (`@licensekit/verifier/offline`), so that
   * only an answer to one of them is installed. Added after version 1 was fixed: a state
   * without it has none pending, and code that predates it keeps the member as it is. Read
   * leniently (offline/pending.ts): a damaged entry counts as not pending, never as a
   * corrupt state that would lose the marks.
   */
  pendingRequests?: PendingRequest[];
}

/** An offline request this verifier wrote: what an answer must name to be installed. */
export interface PendingRequest {
  /** The request's nonce and hash (core's OfflineRequest), both echoed by the response. */
  nonce: string;
  hash: string;
  kind: 'activate' | 'refresh';
  /** When it was written, seconds (the verifier's clock). */
  at: number;
  /** The license a refresh request names; the answer must be a token of it. */
  license?: string;
}

export interface AcceptedToken {
  seq: number;
  hash: string;
}

export interface QuotaUsage {
  window: number;
  used: number;
}

export function emptyState(product: string): StateData {
  return { version: 1, product, highWater: 0, licenses: {}, usage: {} };
}

/**
 * One step of a transaction: the function may mutate `state` only when it reports
 * `changed`, and only then is the state written.
 */
export interface Transition<T> {
  changed: boolean;
  value: T;
}

/**
 * A state adapter. `transact` runs `step` on the current state with mutual exclusion
 * (inside the process always; across processes where the medium allows: the file adapter
 * locks) and persists the state when the step changed it. `step` must be synchronous and
 * deterministic: it is the critical section.
 */
export interface StateStore {
  transact<T>(product: string, step: (state: StateData) => Transition<T>): Promise<T>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isInstant = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) <= 8_640_000_000_000;

/**
 * Reads stored text back into a state. Anything that is not exactly a state of this
 * product (edited, truncated, another version) yields undefined; the caller decides.
 */
export function parseState(
  text: string | null | undefined,
  product: string,
): StateData | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  let raw: unknown;
  try {
    // The app's own file, not a signed document: JSON.parse suffices (it keeps "__proto__"
    // as an ordinary property), and the shape is checked member by member below.
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  return checkState(raw, product);
}

/** The parsed JSON value as a state of this product, or undefined when it is not one. */
export function checkState(raw: unknown, product: string): StateData | undefined {
  if (!isRecord(raw) || raw.version !== 1 || raw.product !== product || !isCount(raw.highWater))
    return undefined;
  if (!isRecord(raw.licenses) || !isRecord(raw.usage)) return undefined;
  for (const entry of Object.values(raw.licenses)) {
    if (!isAcceptedToken(entry)) return undefined;
  }
  for (const quotas of Object.values(raw.usage)) {
    if (!isQuotaUsages(quotas)) return undefined;
  }
  if (raw.revocations !== undefined && !isStoredRevocations(raw.revocations)) return undefined;
  return raw as unknown as StateData;
}

/** Shape checks of the members, shared with the file journal's replay (node/journal). */
export function isAcceptedToken(entry: unknown): entry is AcceptedToken {
  return isRecord(entry) && isCount(entry.seq) && typeof entry.hash === 'string';
}

export function isQuotaUsages(quotas: unknown): quotas is Record<string, QuotaUsage> {
  if (!isRecord(quotas)) return false;
  for (const entry of Object.values(quotas)) {
    // A window is a period start: an instant of the calendar range (±8.64e12 s).
    if (!isRecord(entry) || !isCount(entry.used) || !isInstant(entry.window)) return false;
  }
  return true;
}

export function isStoredRevocations(list: unknown): list is { token: string; seq: number } {
  return isRecord(list) && typeof list.token === 'string' && isCount(list.seq);
}

/**
 * Own-property access for records keyed by license ids and quota names, which come from
 * tokens: a key such as "__proto__" must be an ordinary entry, never the prototype.
 */
export function getOwn<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
