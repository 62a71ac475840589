/**
 * "A crash never loses an acknowledged write nor corrupts the state", with real
 * processes: a child writes to a file state in a tight loop, printing each transaction
 * it got back, and is SIGKILLed at random moments. After every kill the file must read as
 * exactly the state after some transaction N, where N is the last one acknowledged or the
 * one in flight (a kill mid-append loses at most that unacknowledged record), never an
 * older one; the next child must get past the lock the killed one may have left (its
 * holder is dead). Two write patterns: whole-state snapshots renamed over the file, and
 * the journal (one appended record per transaction, compactions in between).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateData } from '../state/state.js';
import { ensureBuilt, type Fixture, killFixture, startFixture } from '../testing/processes.js';
import { stateInFile } from './journal/replay.js';

const PRODUCT = 'crash-test';
const KILLS = 24;

let directory: string;
beforeAll(async () => {
  ensureBuilt();
  directory = await mkdtemp(join(tmpdir(), 'licensekit-crash-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** The state the `replace` writer leaves after transaction n. */
function expectReplaced(state: StateData): void {
  const n = state.highWater;
  const entries = Object.entries(state.licenses);
  expect(entries).toHaveLength((n % 200) + 1);
  for (const [name, entry] of entries) {
    expect(name).toMatch(/^lic_\d+$/);
    expect(entry).toEqual({ seq: n, hash: 'h'.repeat(43) });
  }
}

/** The state the `journal` writer leaves after transactions 1..n: every one of them. */
function expectJournaled(state: StateData): void {
  const n = state.highWater;
  const licenses: StateData['licenses'] = {};
  const usage: StateData['usage'] = {};
  for (let m = Math.max(1, n - 49); m <= n; m++) {
    licenses[`lic_${m % 50}`] = { seq: m, hash: 'h'.repeat(43) };
    usage[`lic_${m % 50}`] = { exports: { window: 0, used: m } };
  }
  expect(state.licenses).toEqual(licenses);
  expect(state.usage).toEqual(usage);
}

/** Every `ack N` the child printed, read to the end of its output. */
function acknowledged(writer: Fixture): () => Promise<number> {
  let last = 0;
  let partial = '';
  writer.child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith('ack ')) last = Number(line.slice(4));
  });
  const closed = new Promise((resolve) => writer.child.stdout!.on('close', resolve));
  return async () => {
    await closed;
    return last;
  };
}

describe('file state under SIGKILL', () => {
  it.each([
    ['replace', expectReplaced],
    ['journal', expectJournaled],
  ] as const)(
    `%s: ${KILLS} kills at random moments of a write loop lose no acknowledged write`,
    async (mode, expectState) => {
      const path = join(directory, `${mode}.json`);
      let lastSeen = 0;
      for (let round = 0; round < KILLS; round++) {
        const writer = startFixture('state-writer.mjs', [path, PRODUCT, mode]);
        const lastAck = acknowledged(writer);
        try {
          // The first write of this round is on disk once the child says so.
          const first = Number((await writer.line((l) => l.startsWith('ack '))).slice(4));
          expect(first).toBe(lastSeen + 1);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
        } finally {
          await killFixture(writer, 'SIGKILL');
        }
        const { signal } = await writer.exited;
        expect(signal).toBe('SIGKILL');
        const acked = await lastAck();

        const state = stateInFile(await readFile(path), PRODUCT);
        expect(state).toBeDefined();
        expectState(state!);
        // Every acknowledged transaction is there; at most the one in flight besides.
        expect(state!.highWater).toBeGreaterThanOrEqual(acked);
        expect(state!.highWater).toBeLessThanOrEqual(acked + 1);
        expect(state!.highWater).toBeGreaterThan(lastSeen);
        lastSeen = state!.highWater;
      }
      // The rounds wrote many states: the kills did land in the middle of the loop.
      expect(lastSeen).toBeGreaterThan(KILLS * 2);
    },
    90_000,
  );
});
