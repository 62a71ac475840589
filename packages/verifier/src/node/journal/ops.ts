/**
 * The changes one transaction makes to a state, as the journal records them. A state is
 * its per-license maps (`licenses`, `usage`) and everything else (the "meta": version,
 * product, high-water mark, revocation list, pending requests, members this code does
 * not know). A change sets or removes one license's entry of a map, or replaces the meta:
 *
 *     ["L", sub, { seq, hash } | null]      licenses[sub]
 *     ["U", sub, { quota: { window, used } } | null]   usage[sub]
 *     ["M", { version, product, highWater, ... }]
 *
 * so a record costs what the transaction touched, not what the state holds. Replay
 * checks every change as strictly as `checkState` checks a whole state, so a replayed
 * state is always a valid one.
 */
import type { AcceptedToken, QuotaUsage, StateData } from '../../state/state.js';
import { isAcceptedToken, isQuotaUsages, isStoredRevocations, setOwn } from '../../state/state.js';

export type Meta = Omit<StateData, 'licenses' | 'usage'>;

export type JournalOp =
  | readonly ['L', string, AcceptedToken | null]
  | readonly ['U', string, Record<string, QuotaUsage> | null]
  | readonly ['M', Meta];

const MAPS = new Set(['licenses', 'usage']);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The meta of a state: every own member but the two per-license maps. */
export function metaOf(state: StateData): Meta {
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(state)) {
    if (!MAPS.has(key)) setOwn(meta, key, (state as unknown as Record<string, unknown>)[key]);
  }
  return meta as unknown as Meta;
}

function isMeta(value: unknown, product: string): value is Meta {
  return (
    isRecord(value) &&
    value.version === 1 &&
    value.product === product &&
    typeof value.highWater === 'number' &&
    Number.isSafeInteger(value.highWater) &&
    value.highWater >= 0 &&
    !Object.hasOwn(value, 'licenses') &&
    !Object.hasOwn(value, 'usage') &&
    (value.revocations === undefined || isStoredRevocations(value.revocations))
  );
}

/** The changes of a record, each checked; undefined when any is not a valid change. */
export function checkOps(value: unknown, product: string): JournalOp[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const op of value) {
    if (!Array.isArray(op)) return undefined;
    const [kind, key, entry] = op as unknown[];
    if (kind === 'M') {
      if (op.length !== 2 || !isMeta(key, product)) return undefined;
    } else if (kind === 'L' || kind === 'U') {
      if (op.length !== 3 || typeof key !== 'string') return undefined;
      if (entry !== null && !(kind === 'L' ? isAcceptedToken(entry) : isQuotaUsages(entry)))
        return undefined;
    } else {
      return undefined;
    }
  }
  return value as JournalOp[];
}

/** Applies checked changes in order (license ids from tokens stay ordinary keys). */
export function applyOps(state: StateData, ops: readonly JournalOp[]): void {
  for (const op of ops) {
    if (op[0] === 'M') {
      const target = state as unknown as Record<string, unknown>;
      for (const key of Object.keys(target)) if (!MAPS.has(key)) delete target[key];
      for (const [key, value] of Object.entries(op[1])) setOwn(target, key, value);
    } else {
      const map: Record<string, unknown> = op[0] === 'L' ? state.licenses : state.usage;
      if (op[2] === null) delete map[op[1]];
      else setOwn(map, op[1], op[2]);
    }
  }
}
