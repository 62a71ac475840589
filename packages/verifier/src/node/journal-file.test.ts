/**
 * The file state as a journal, on real files: a file of the old format read and migrated,
 * a torn last record ignored, a damaged record salvaged around, an older copy of the file
 * put back (or the file deleted) while the app runs, two instances sharing one file.
 */
import {
  appendFile,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestKey, PRODUCT } from '../../../../test/support/tokens.js';
import { createVerifier } from '../index.js';
import type { StateData } from '../state/state.js';
import { emptyState } from '../state/state.js';
import { issueLicense, renewLicense, testClock } from '../testing/harness.js';
import type { StateRecovery } from './index.js';
import { fileState } from './index.js';
import { encodeRecord } from './journal/record.js';
import { readStateFile, stateInFile } from './journal/replay.js';

let root: string;
let counter = 0;
async function freshPath(): Promise<string> {
  const directory = join(root, `t${counter++}`);
  await mkdir(directory);
  return join(directory, 'state.json');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'licensekit-journal-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Sets license `sub` to `seq` and spends one unit of its quota `q`: one record. */
const spend = (sub: string, seq: number) => (state: StateData) => {
  state.highWater += 1;
  state.licenses[sub] = { seq, hash: `h${seq}` };
  const used = (state.usage[sub]?.q?.used ?? 0) + 1;
  state.usage[sub] = { q: { window: 0, used } };
  return { changed: true, value: used };
};
const used = (sub: string) => (state: StateData) => ({
  changed: false,
  value: state.usage[sub]?.q?.used ?? 0,
});
const onDisk = async (path: string) => stateInFile(await readFile(path), PRODUCT);

describe('the old format (one JSON state)', () => {
  const legacy = {
    ...emptyState(PRODUCT),
    highWater: 1_700_000_000,
    licenses: { lic_a: { seq: 3, hash: 'ha' } },
    usage: { lic_a: { q: { window: 0, used: 7 } } },
    pendingRequests: [{ nonce: 'n', hash: 'x', kind: 'activate' as const, at: 1 }],
  };

  it('is read as it is, left untouched by reads, and becomes a journal at the first write', async () => {
    const path = await freshPath();
    const text = JSON.stringify(legacy);
    await writeFile(path, text, { mode: 0o600 });
    const store = fileState(path);
    expect(await store.transact(PRODUCT, used('lic_a'))).toBe(7);
    expect(await readFile(path, 'utf8')).toBe(text);
    expect(await store.transact(PRODUCT, spend('lic_a', 3))).toBe(8);
    const found = readStateFile(await readFile(path), PRODUCT);
    expect(found.kind).toBe('journal');
    expect(found).toMatchObject({
      state: {
        ...legacy,
        highWater: legacy.highWater + 1,
        licenses: { lic_a: { seq: 3, hash: 'h3' } },
        usage: { lic_a: { q: { used: 8 } } },
      },
    });
    expect(await fileState(path).transact(PRODUCT, used('lic_a'))).toBe(8);
  });

  it('keeps its rollback marks through a verifier', async () => {
    const path = await freshPath();
    const issuer = generateTestKey();
    const clock = testClock();
    const first = issueLicense(issuer, 'jwt');
    const second = renewLicense(issuer, 'jwt', first);
    const make = () =>
      createVerifier({
        trust: { issuers: [issuer.jwk] },
        product: PRODUCT,
        clock: clock.read,
        state: fileState(path),
      });
    expect((await make().verify(second.token)).status).toBe('active');
    // As the old version would have left it: the same state, as one JSON document.
    await writeFile(path, JSON.stringify(await onDisk(path)));
    expect(await make().verify(first.token)).toMatchObject({ status: 'rolled_back' });
  });
});

describe('a crash mid-append', () => {
  it('leaves a torn last record that is ignored, and replaced by the next write', async () => {
    const path = await freshPath();
    const store = fileState(path);
    for (let i = 1; i <= 3; i++) await store.transact(PRODUCT, spend('lic_a', i));
    const whole = await readFile(path);
    // The fourth record, cut short as a kill or power loss mid-write leaves it.
    const fourth = encodeRecord({
      gen: 4,
      ops: [['U', 'lic_a', { q: { window: 0, used: 4 } }]],
    });
    for (const cut of [1, 20, fourth.length - 2, fourth.length - 1]) {
      await writeFile(path, Buffer.concat([whole, fourth.subarray(0, cut)]));
      const events: StateRecovery[] = [];
      const reader = fileState(path, { onRecovery: (event) => events.push(event) });
      expect(await reader.transact(PRODUCT, used('lic_a'))).toBe(3);
      expect(events).toEqual([]);
    }
    const writer = fileState(path);
    expect(await writer.transact(PRODUCT, spend('lic_a', 4))).toBe(4);
    const found = readStateFile(await readFile(path), PRODUCT);
    expect(found).toMatchObject({ kind: 'journal', torn: false });
    expect(found.kind === 'journal' && found.end).toBe((await stat(path)).size);
    expect(await fileState(path).transact(PRODUCT, used('lic_a'))).toBe(4);
  });

  it('by another process is seen by an instance that holds the state, which then writes cleanly', async () => {
    const path = await freshPath();
    const store = fileState(path);
    await store.transact(PRODUCT, spend('lic_a', 1));
    await appendFile(path, encodeRecord({ gen: 2, ops: [] }).subarray(0, 10));
    expect(await store.transact(PRODUCT, used('lic_a'))).toBe(1);
    expect(await store.transact(PRODUCT, spend('lic_a', 2))).toBe(2);
    expect(readStateFile(await readFile(path), PRODUCT)).toMatchObject({
      kind: 'journal',
      torn: false,
      state: { usage: { lic_a: { q: { used: 2 } } } },
    });
  });
});

describe('a damaged file', () => {
  it('keeps every readable record, a copy of the file, and says so', async () => {
    const path = await freshPath();
    const store = fileState(path);
    await store.transact(PRODUCT, spend('lic_a', 1));
    await store.transact(PRODUCT, spend('lic_b', 1));
    await store.transact(PRODUCT, spend('lic_c', 1));
    await store.transact(PRODUCT, spend('lic_c', 2));
    const bytes = await readFile(path);
    const lines = bytes.toString('utf8').split('\n');
    // Damage the record of lic_b (the second line: the first is the snapshot holding lic_a).
    const at = lines[0]!.length + 1 + 30;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    await writeFile(path, bytes);

    const events: StateRecovery[] = [];
    const recovered = fileState(path, { onRecovery: (event) => events.push(event) });
    expect(await recovered.transact(PRODUCT, used('lic_c'))).toBe(2);
    expect(await recovered.transact(PRODUCT, used('lic_a'))).toBe(1);
    expect(await recovered.transact(PRODUCT, used('lic_b'))).toBe(0);
    expect(events).toEqual([{ kind: 'damaged', path, keptAs: `${path}.corrupt`, unreadable: 1 }]);
    expect(await readFile(`${path}.corrupt`)).toEqual(bytes);
    // Written back clean: the next instance reads the salvaged state without recovering.
    expect(readStateFile(await readFile(path), PRODUCT)).toMatchObject({ kind: 'journal' });
    expect(await fileState(path).transact(PRODUCT, used('lic_c'))).toBe(2);
  });

  it('of another product is a ConfigError and is left alone', async () => {
    const path = await freshPath();
    await fileState(path).transact('other-app', spend('lic_a', 1));
    const before = await readFile(path);
    await expect(fileState(path).transact(PRODUCT, used('lic_a'))).rejects.toBeInstanceOf(
      ConfigError,
    );
    expect(await readFile(path)).toEqual(before);
  });
});

describe('an older copy of the file put back while the app runs', () => {
  it.each([
    ['renamed over the file', async (backup: string, path: string) => rename(backup, path)],
    ['copied into the file', async (backup: string, path: string) => copyFile(backup, path)],
    ['deleted', async (_backup: string, path: string) => unlink(path)],
  ])('gives back no spent quota (%s)', async (_how, restore) => {
    const path = await freshPath();
    const backup = `${path}.backup`;
    const events: StateRecovery[] = [];
    const store = fileState(path, { onRecovery: (event) => events.push(event) });
    await store.transact(PRODUCT, spend('lic_a', 1));
    await store.transact(PRODUCT, spend('lic_a', 1));
    await copyFile(path, backup);
    for (let i = 0; i < 3; i++) await store.transact(PRODUCT, spend('lic_a', 1));
    await restore(backup, path);
    expect(await store.transact(PRODUCT, used('lic_a'))).toBe(5);
    expect(events).toEqual([{ kind: 'behind', path }]);
    // And written back, so other processes see the marks too.
    expect((await onDisk(path))?.usage.lic_a?.q?.used).toBe(5);
    expect(await store.transact(PRODUCT, spend('lic_a', 1))).toBe(6);
  });

  it('through a verifier: an exhausted quota stays exhausted', async () => {
    const path = await freshPath();
    const issuer = generateTestKey();
    const { token } = issueLicense(issuer, 'cwt', { quota: { exports: { limit: 3 } } });
    const verifier = createVerifier({
      trust: { issuers: [issuer.jwk] },
      product: PRODUCT,
      clock: testClock().read,
      state: fileState(path),
    });
    expect((await verifier.consume(token, 'exports')).granted).toBe(true);
    await copyFile(path, `${path}.backup`);
    expect((await verifier.consume(token, 'exports', 2)).granted).toBe(true);
    expect((await verifier.consume(token, 'exports')).reason).toBe('exhausted');
    await rename(`${path}.backup`, path);
    expect(await verifier.consume(token, 'exports')).toMatchObject({
      granted: false,
      reason: 'exhausted',
      remaining: 0,
    });
  });
});

describe('two instances sharing one file (as two processes do)', () => {
  it('see each other’s appends and snapshots, and never lose a spend', async () => {
    const path = await freshPath();
    const a = fileState(path, { compactMinBytes: 512 });
    const b = fileState(path, { compactMinBytes: 512 });
    let spent = 0;
    for (let i = 0; i < 60; i++) {
      const store = (i * 7) % 3 === 0 ? a : b;
      await store.transact(PRODUCT, spend(`lic_${i % 4}`, i));
      spent++;
      const total = async (s: typeof a) => {
        let sum = 0;
        for (let k = 0; k < 4; k++) sum += await s.transact(PRODUCT, used(`lic_${k}`));
        return sum;
      };
      expect(await total(a)).toBe(spent);
      expect(await total(b)).toBe(spent);
    }
  });

  it('a step that throws leaves no trace of what it changed', async () => {
    const path = await freshPath();
    const store = fileState(path);
    await store.transact(PRODUCT, spend('lic_a', 1));
    await expect(
      store.transact(PRODUCT, (state) => {
        state.usage.lic_a = { q: { window: 0, used: 99 } };
        state.highWater = 12345;
        throw new Error('step failed');
      }),
    ).rejects.toThrow('step failed');
    expect(await store.transact(PRODUCT, used('lic_a'))).toBe(1);
    expect(
      await store.transact(PRODUCT, (state) => ({ changed: false, value: state.highWater })),
    ).toBe(1);
  });

  it('a step that lists a map is written as a snapshot', async () => {
    const path = await freshPath();
    const store = fileState(path);
    await store.transact(PRODUCT, spend('lic_a', 1));
    await store.transact(PRODUCT, spend('lic_b', 1));
    const before = (await stat(path)).ino;
    await store.transact(PRODUCT, (state) => {
      for (const sub of Object.keys(state.licenses)) delete state.licenses[sub];
      return { changed: true, value: undefined };
    });
    expect((await stat(path)).ino).not.toBe(before);
    expect((await onDisk(path))?.licenses).toEqual({});
  });
});
