/**
 * Properties of the state journal:
 * - any sequence of transactions, replayed from the journal written for it, gives the
 *   state held in memory (in the pure codec, and through fileState on real files with
 *   two instances taking turns and compactions in between);
 * - the file cut at any byte reads as the state after a prefix of the transactions (the
 *   records whole before the cut), never as something else;
 * - a byte damaged in a record never throws and never loses a mark recorded before it;
 * - the checksum is CRC-32 as zlib computes it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryState } from '../state/memory.js';
import { joinMarks } from '../state/merge.js';
import type { StateData } from '../state/state.js';
import { emptyState, getOwn, setOwn } from '../state/state.js';
import { fileState } from './file-state.js';
import { crc32 } from './journal/crc32.js';
import { encodeRecord } from './journal/record.js';
import { readStateFile, stateInFile } from './journal/replay.js';
import { TrackedState } from './journal/tracker.js';

const PRODUCT = 'journal-test';
const copy = (state: StateData): StateData => JSON.parse(JSON.stringify(state)) as StateData;
/** JSON with the members of every object in one order, to compare states as text. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

// License ids come from tokens: keys such as "__proto__" must stay ordinary entries.
const sub = fc.constantFrom('lic_a', 'lic_b', 'lic_c', '__proto__', 'constructor', 'é✓');
const quota = fc.constantFrom('exports', 'seats', '__proto__');

type Command =
  | { kind: 'accept'; sub: string; seq: number; hash: string }
  | { kind: 'spend'; sub: string; quota: string; window: number; amount: number }
  | { kind: 'forget'; sub: string }
  | { kind: 'highWater'; by: number }
  | { kind: 'revocations'; seq: number; token: string }
  | { kind: 'pending'; count: number }
  | { kind: 'replace' }
  | { kind: 'list' }
  | { kind: 'read'; sub: string };

/** Moves only ever forward, as the verifier's own steps do. */
const monotoneCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('accept' as const),
    sub,
    seq: fc.nat(50),
    hash: fc.string({ maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('spend' as const),
    sub,
    quota,
    window: fc.nat(3),
    amount: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({ kind: fc.constant('highWater' as const), by: fc.integer({ min: 1, max: 100 }) }),
  fc.record({
    kind: fc.constant('revocations' as const),
    seq: fc.nat(20),
    token: fc.string({ maxLength: 30 }),
  }),
  fc.record({ kind: fc.constant('read' as const), sub }),
);

const anyCommand: fc.Arbitrary<Command> = fc.oneof(
  monotoneCommand,
  fc.record({ kind: fc.constant('forget' as const), sub }),
  fc.record({ kind: fc.constant('pending' as const), count: fc.nat(3) }),
  fc.constant({ kind: 'replace' as const }),
  fc.constant({ kind: 'list' as const }),
);

/** A transaction's step, written the way the verifier's are (getOwn/setOwn, in place). */
function run(state: StateData, command: Command): boolean {
  switch (command.kind) {
    case 'accept': {
      const held = getOwn(state.licenses, command.sub);
      if (held !== undefined && held.seq >= command.seq) return false;
      setOwn(state.licenses, command.sub, { seq: command.seq, hash: command.hash });
      return true;
    }
    case 'spend': {
      let quotas = getOwn(state.usage, command.sub);
      const entry = quotas === undefined ? undefined : getOwn(quotas, command.quota);
      if (entry !== undefined && entry.window > command.window) return false;
      const used = entry?.window === command.window ? entry.used : 0;
      if (quotas === undefined) {
        quotas = {};
        setOwn(state.usage, command.sub, quotas);
      }
      setOwn(quotas, command.quota, { window: command.window, used: used + command.amount });
      return true;
    }
    case 'forget':
      delete state.licenses[command.sub];
      delete state.usage[command.sub];
      return true;
    case 'highWater':
      state.highWater += command.by;
      return true;
    case 'revocations':
      if ((state.revocations?.seq ?? -1) >= command.seq) return false;
      state.revocations = { token: command.token, seq: command.seq };
      return true;
    case 'pending':
      if (command.count === 0) delete state.pendingRequests;
      else
        state.pendingRequests = Array.from({ length: command.count }, (_, i) => ({
          nonce: `n${i}`,
          hash: 'x',
          kind: 'activate' as const,
          at: state.highWater,
        }));
      return true;
    case 'replace':
      state.licenses = JSON.parse(JSON.stringify(state.licenses));
      return true;
    case 'list':
      state.highWater += Object.keys(state.usage).length + 1;
      return true;
    case 'read':
      getOwn(state.licenses, command.sub);
      getOwn(state.usage, command.sub);
      return false;
  }
}

interface Written {
  bytes: Buffer;
  /** Offset past the snapshot, and the state after each record, with the record's end. */
  snapshotEnd: number;
  prefixes: { end: number; state: StateData }[];
  model: StateData;
  held: StateData;
}

/** Writes the journal of `commands` as fileState does, without a file: snapshot, records. */
function writeJournal(commands: Command[], compactEvery: number): Written {
  const model = emptyState(PRODUCT);
  const tracked = new TrackedState(emptyState(PRODUCT));
  let gen = 0;
  let bytes = encodeRecord({ journal: 1, gen, state: tracked.plain() });
  let snapshotEnd = bytes.length;
  let prefixes = [{ end: bytes.length, state: copy(model) }];
  let records = 0;
  for (const command of commands) {
    tracked.begin();
    const changed = run(tracked.view, command);
    expect(run(model, command)).toBe(changed);
    if (!changed) continue;
    const ops = tracked.changes();
    gen++;
    if (ops === 'snapshot' || ++records % compactEvery === 0) {
      bytes = encodeRecord({ journal: 1, gen, state: tracked.plain() });
      snapshotEnd = bytes.length;
      prefixes = [];
    } else {
      bytes = Buffer.concat([bytes, encodeRecord({ gen, ops })]);
    }
    tracked.committed();
    prefixes.push({ end: bytes.length, state: copy(model) });
  }
  return { bytes, snapshotEnd, prefixes, model, held: copy(tracked.plain()) };
}

const commands = (arbitrary: fc.Arbitrary<Command>) => fc.array(arbitrary, { maxLength: 40 });

describe('the journal codec', () => {
  it('replays any sequence of transactions to the state held in memory', () => {
    fc.assert(
      fc.property(commands(anyCommand), fc.integer({ min: 1, max: 50 }), (list, every) => {
        const written = writeJournal(list, every);
        expect(written.held).toEqual(written.model);
        const found = readStateFile(written.bytes, PRODUCT);
        expect(found).toMatchObject({ kind: 'journal', torn: false, end: written.bytes.length });
        expect(copy(stateInFile(written.bytes, PRODUCT)!)).toEqual(written.model);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the file cut at any byte as the state after the records whole before the cut', () => {
    fc.assert(
      fc.property(commands(anyCommand), fc.nat(), (list, seed) => {
        const written = writeJournal(list, 1000);
        const cut = seed % (written.bytes.length + 1);
        const found = readStateFile(written.bytes.subarray(0, cut), PRODUCT);
        if (cut < written.snapshotEnd) {
          // The snapshot is renamed into place whole: a cut one is damage, said as such.
          expect(found.kind).toBe('damaged');
          return;
        }
        const prefix = written.prefixes.filter((p) => p.end <= cut).at(-1)!;
        expect(found.kind).toBe('journal');
        expect(copy(stateInFile(written.bytes.subarray(0, cut), PRODUCT)!)).toEqual(prefix.state);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a damaged byte and keeps every mark recorded before it', () => {
    fc.assert(
      fc.property(
        commands(anyCommand),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (list, seed, flip) => {
          const written = writeJournal(list, 1000);
          const after = written.bytes.length - written.snapshotEnd;
          if (after === 0) return;
          const at = written.snapshotEnd + (seed % after);
          const bytes = Buffer.from(written.bytes);
          bytes[at] = bytes[at]! ^ flip;
          const found = readStateFile(bytes, PRODUCT);
          // The state before the damaged record: what must survive it.
          const before = written.prefixes.filter((p) => p.end <= at).at(-1)!.state;
          if (found.kind === 'journal') {
            // A damaged newline can look like a torn tail: then it reads as a prefix.
            const states = written.prefixes.map((p) => canonical(p.state));
            expect(states).toContain(canonical(found.state));
          } else {
            expect(found.kind).toBe('damaged');
            if (found.kind === 'damaged') expect(joinMarks(copy(found.state), before)).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('checksums with CRC-32 as zlib computes it', () => {
    const zlibCrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        if (zlibCrc) expect(crc32(data)).toBe(zlibCrc(data));
      }),
    );
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('joinMarks', () => {
  const state = commands(monotoneCommand).map((list) => {
    const s = emptyState(PRODUCT);
    for (const command of list) run(s, command);
    return s;
  });
  it('keeps, mark by mark, the copy further along: both are below the join, twice is once', () => {
    fc.assert(
      fc.property(state, state, (a, b) => {
        const joined = copy(a);
        joinMarks(joined, b);
        expect(joinMarks(copy(joined), a)).toBe(false);
        expect(joinMarks(copy(joined), b)).toBe(false);
        expect(joinMarks(joined, b)).toBe(false);
        const other = copy(b);
        joinMarks(other, a);
        expect(other.highWater).toBe(joined.highWater);
        expect(other.usage).toEqual(joined.usage);
        expect(other.revocations?.seq).toBe(joined.revocations?.seq);
      }),
    );
  });
});

describe('fileState against memoryState', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'licensekit-journal-property-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('two instances taking turns on one file end with the state memory holds', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(anyCommand, fc.boolean()), { maxLength: 25 }),
        fc.integer({ min: 200, max: 4000 }),
        async (list, compactMinBytes) => {
          const path = join(directory, `state-${runs++}.json`);
          const instances = [
            fileState(path, { compactMinBytes }),
            fileState(path, { compactMinBytes }),
          ];
          const memory = memoryState();
          for (const [command, second] of list) {
            const step = (s: StateData) => {
              const changed = run(s, command);
              return { changed, value: changed };
            };
            const inMemory = await memory.transact(PRODUCT, step);
            expect(await instances[second ? 1 : 0]!.transact(PRODUCT, step)).toBe(inMemory);
          }
          const expected = await memory.transact(PRODUCT, (s) => ({
            changed: false,
            value: copy(s),
          }));
          const reread = await fileState(path).transact(PRODUCT, (s) => ({
            changed: false,
            value: copy(s),
          }));
          expect(reread).toEqual(expected);
          const bytes = await readFile(path).catch(() => undefined);
          if (bytes === undefined) expect(expected).toEqual(emptyState(PRODUCT));
          else expect(copy(stateInFile(bytes, PRODUCT)!)).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});
