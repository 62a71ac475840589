/**
 * "A write torn by a crash never loses the previous state", with real processes: a child
 * writes new states to a file state in a tight loop and is SIGKILLed at random moments.
 * After every kill the file must parse as one of the states the child wrote, and never an
 * older one than the last state seen; the next child must get past the lock the killed
 * one may have left (its holder is dead).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateData } from '../state/state.js';
import { parseState } from '../state/state.js';
import { ensureBuilt, killFixture, startFixture } from '../testing/processes.js';

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

/** A state the writer fixture could have written: its entries agree with its highWater. */
function expectWrittenState(state: StateData | undefined): asserts state is StateData {
  expect(state).toBeDefined();
  const n = state!.highWater;
  const entries = Object.entries(state!.licenses);
  expect(entries).toHaveLength((n % 200) + 1);
  for (const [name, entry] of entries) {
    expect(name).toMatch(/^lic_\d+$/);
    expect(entry).toEqual({ seq: n, hash: 'h'.repeat(43) });
  }
}

describe('file state under SIGKILL', () => {
  it(`keeps a valid state across ${KILLS} kills at random moments of a write loop`, async () => {
    const path = join(directory, 'state.json');
    let lastSeen = 0;
    for (let round = 0; round < KILLS; round++) {
      const writer = startFixture('state-writer.mjs', [path, PRODUCT]);
      try {
        // The first write of this round is on disk once the child says so.
        const firstWrite = Number(
          (await writer.line((l) => l.startsWith('written '))).split(' ')[1],
        );
        expect(firstWrite).toBe(lastSeen + 1);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
      } finally {
        await killFixture(writer, 'SIGKILL');
      }
      const { signal } = await writer.exited;
      expect(signal).toBe('SIGKILL');

      const text = await readFile(path, 'utf8');
      const state = parseState(text, PRODUCT);
      expectWrittenState(state);
      // Never an older state than one already seen on disk.
      expect(state.highWater).toBeGreaterThan(lastSeen);
      lastSeen = state.highWater;
    }
    // The rounds wrote many states: the kills did land in the middle of the loop.
    expect(lastSeen).toBeGreaterThan(KILLS * 2);
  }, 60_000);
});
