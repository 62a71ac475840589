/**
 * Reading a state file back: the journal (a snapshot record, then one record per
 * transaction, see ./record.ts and ./ops.ts) or a file of the old format (one JSON
 * state), which is read as it is and rewritten as a journal at its first write.
 *
 * What a crash can leave, and what is done with it:
 * - a last record torn by a crash while it was appended (no final newline, or a checksum
 *   that fails): ignored, so the state is that of the records before it; the writer
 *   acknowledged only records that were whole on disk, so nothing acknowledged is lost;
 * - anything else that is not a clean run of records (a damaged record followed by good
 *   ones, a gap in the record numbers, an unreadable snapshot) was not made by a crash:
 *   the file is "damaged", and the readable records are salvaged — the run before the
 *   damage as it is, every readable record after it joined mark by mark (state/merge.ts),
 *   so no readable spend of quota is dropped.
 */

import { joinMarks } from '../../state/merge.js';
import type { StateData } from '../../state/state.js';
import { checkState, emptyState, parseState } from '../../state/state.js';
import { applyOps, checkOps } from './ops.js';
import { looksLikeJournal, scanLines } from './record.js';

export type StateFile =
  | {
      kind: 'journal';
      state: StateData;
      /** The number of the last record applied (the snapshot counts as its own number). */
      gen: number;
      /** Bytes of the snapshot record, and of the clean run of records. */
      snapshotBytes: number;
      end: number;
      /** A torn last record follows `end`. */
      torn: boolean;
    }
  | { kind: 'legacy'; state: StateData }
  | { kind: 'foreign'; owner: string }
  | {
      kind: 'damaged';
      /** The readable part, see the module comment. */
      state: StateData;
      gen: number;
      /** Lines that could not be read (or, in the old format, the whole file: 1). */
      unreadable: number;
    };

interface Snapshot {
  gen: number;
  state: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isGen = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function asSnapshot(payload: unknown): Snapshot | undefined {
  if (!isRecord(payload) || payload.journal !== 1 || !isGen(payload.gen)) return undefined;
  return { gen: payload.gen, state: payload.state };
}

function asDelta(payload: unknown, product: string) {
  if (!isRecord(payload) || !isGen(payload.gen)) return undefined;
  const ops = checkOps(payload.ops, product);
  return ops === undefined ? undefined : { gen: payload.gen, ops };
}

/** The product a stored state names, if `value` is an object naming one. */
function productOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.product === 'string' ? value.product : undefined;
}

export function readStateFile(bytes: Buffer, product: string): StateFile {
  if (!looksLikeJournal(bytes)) return readLegacy(bytes, product);
  const lines = scanLines(bytes);
  const first = lines.next();
  const snapshot = first.done ? undefined : asSnapshot(first.value.payload);
  const base = snapshot === undefined ? undefined : checkState(snapshot.state, product);
  if (snapshot !== undefined && base === undefined) {
    const owner = productOf(snapshot.state);
    if (owner !== undefined && owner !== product) return { kind: 'foreign', owner };
  }
  if (snapshot === undefined || base === undefined) {
    // No snapshot to start from: salvage what the records after it hold.
    const state = emptyState(product);
    const end = first.done ? bytes.length : first.value.end;
    const salvage = salvageFrom(state, 0, bytes, end, product);
    return { kind: 'damaged', state, gen: salvage.gen, unreadable: 1 + salvage.unreadable };
  }
  const snapshotBytes = (first.value as { end: number }).end;
  const run = replayRecords(base, snapshot.gen, bytes, snapshotBytes, product);
  if (run.damagedAt === undefined) {
    return {
      kind: 'journal',
      state: base,
      gen: run.gen,
      snapshotBytes,
      end: run.end,
      torn: run.end < bytes.length,
    };
  }
  const salvage = salvageFrom(base, run.gen, bytes, run.damagedAt, product);
  return { kind: 'damaged', state: base, gen: salvage.gen, unreadable: salvage.unreadable };
}

export interface Continuation {
  gen: number;
  /** Offset past the last record applied. */
  end: number;
  /** Whether a torn record follows `end`. */
  torn: boolean;
}

/**
 * Applies the records another process appended, `bytes` being the file from `from` on.
 * Undefined when they are not a clean continuation of record `gen` (the file was replaced
 * or damaged): the caller then reads the whole file. `state` may be partly updated then.
 */
export function continueJournal(
  state: StateData,
  gen: number,
  bytes: Buffer,
  from: number,
  product: string,
): Continuation | undefined {
  const run = replayRecords(state, gen, bytes, from, product);
  return run.damagedAt === undefined
    ? { gen: run.gen, end: run.end, torn: run.end < bytes.length }
    : undefined;
}

/**
 * Applies the clean run of records numbered gen + 1, gen + 2 … from `from`. It stops at
 * the end, at a torn last line, or at damage: a bad line that is not the last, or a
 * record out of sequence (`damagedAt`, its offset).
 */
function replayRecords(
  state: StateData,
  gen: number,
  bytes: Buffer,
  from: number,
  product: string,
): { gen: number; end: number; damagedAt?: number } {
  let end = from;
  for (const line of scanLines(bytes, from)) {
    const delta = asDelta(line.payload, product);
    if (delta === undefined) {
      if (line.end === bytes.length) return { gen, end }; // torn last record
      return { gen, end, damagedAt: line.start };
    }
    if (delta.gen !== gen + 1) return { gen, end, damagedAt: line.start };
    applyOps(state, delta.ops);
    gen = delta.gen;
    end = line.end;
  }
  return { gen, end };
}

/** Joins into `state` every readable record from `from` on; counts the unreadable lines. */
function salvageFrom(
  state: StateData,
  gen: number,
  bytes: Buffer,
  from: number,
  product: string,
): { gen: number; unreadable: number } {
  let unreadable = 0;
  for (const line of scanLines(bytes, from)) {
    const delta = asDelta(line.payload, product);
    if (delta === undefined) {
      // A torn last line is a crash's doing, not damage.
      if (!(line.end === bytes.length && line.start > from)) unreadable++;
      continue;
    }
    const scratch = emptyState(product);
    applyOps(scratch, delta.ops);
    joinMarks(state, scratch);
    gen = Math.max(gen, delta.gen);
  }
  return { gen, unreadable };
}

function readLegacy(bytes: Buffer, product: string): StateFile {
  const text = bytes.toString('utf8');
  const state = parseState(text, product);
  if (state !== undefined) return { kind: 'legacy', state };
  let owner: string | undefined;
  try {
    owner = productOf(JSON.parse(text));
  } catch {
    owner = undefined;
  }
  if (owner !== undefined && owner !== product) return { kind: 'foreign', owner };
  return { kind: 'damaged', state: emptyState(product), gen: 0, unreadable: 1 };
}

/**
 * The state a file holds as this code reads it (a clean or torn journal, or the old
 * format), or undefined when it is damaged or another product's: for tests and tools that
 * inspect a state file without opening it as a store.
 */
export function stateInFile(bytes: Buffer, product: string): StateData | undefined {
  const found = readStateFile(bytes, product);
  return found.kind === 'journal' || found.kind === 'legacy' ? found.state : undefined;
}
