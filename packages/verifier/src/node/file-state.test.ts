/**
 * The file state (Node): mode 0600, appends and atomic snapshots, recovery from a
 * corrupted file, the cross-process lock (stale locks of dead holders, lock timeout).
 * The journal itself (torn records, damage, old format, rollback): journal-file.test.ts.
 */
import { spawn } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestKey, PRODUCT } from '../../../../test/support/tokens.js';
import { createVerifier } from '../index.js';
import type { StateData } from '../state/state.js';
import { issueLicense, renewLicense, testClock } from '../testing/harness.js';
import { ensureBuilt, killFixture, startFixture } from '../testing/processes.js';
import { fileState, StateLockError, writeAtomically } from './index.js';
import { stateInFile } from './journal/replay.js';

let root: string;
let counter = 0;
/** A fresh directory per test. */
async function freshDir(): Promise<string> {
  const directory = join(root, `t${counter++}`);
  await mkdir(directory);
  return directory;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'licensekit-file-state-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const bump = (state: StateData) => {
  state.highWater += 1;
  return { changed: true, value: state.highWater };
};
const read = (state: StateData) => ({ changed: false, value: state.highWater });

/** The pid of a process that has exited (and been reaped): no process has it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  return pid;
}

describe('fileState', () => {
  it('writes the state with mode 0600 and creates its directory', async () => {
    const path = join(await freshDir(), 'nested', 'state.json');
    await fileState(path).transact(PRODUCT, bump);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
    expect(stateInFile(await readFile(path), PRODUCT)?.highWater).toBe(1);
  });

  it('keeps mode 0600 when it replaces a file that was made readable', async () => {
    const path = join(await freshDir(), 'state.json');
    const store = fileState(path);
    await store.transact(PRODUCT, bump);
    await chmod(path, 0o644);
    await store.transact(PRODUCT, bump);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('persists across instances and writes nothing for a read-only step', async () => {
    const path = join(await freshDir(), 'state.json');
    await fileState(path).transact(PRODUCT, bump);
    const before = await stat(path);
    expect(await fileState(path).transact(PRODUCT, read)).toBe(1);
    expect((await stat(path)).ino).toBe(before.ino);
  });

  it('a license another process forgot after a new snapshot stays forgotten (not taken for a rollback)', async () => {
    // Seen in CI (journal.property.test.ts): A spends; B writes a snapshot and forgets
    // the license; A, finding a new file, joined its old marks back in.
    const path = join(await freshDir(), 'state.json');
    const [first, second] = [fileState(path), fileState(path)];
    await first.transact(PRODUCT, (state) => {
      state.usage.lic_a = { exports: { window: 0, used: 1 } };
      return { changed: true, value: undefined };
    });
    await second.transact(PRODUCT, (state) => {
      state.highWater += Object.keys(state.usage).length; // a listing: written as a snapshot
      return { changed: true, value: undefined };
    });
    await second.transact(PRODUCT, (state) => {
      delete state.usage.lic_a;
      return { changed: true, value: undefined };
    });
    const seen = await first.transact(PRODUCT, (state) => ({
      changed: false,
      value: { usage: { ...state.usage }, highWater: state.highWater },
    }));
    expect(seen).toEqual({ usage: {}, highWater: 1 });
    expect(stateInFile(await readFile(path), PRODUCT)?.usage).toEqual({});
  });

  it('replaces the file atomically: no temporary or lock file is left behind', async () => {
    const directory = await freshDir();
    const path = join(directory, 'state.json');
    const store = fileState(path);
    for (let i = 0; i < 20; i++) await store.transact(PRODUCT, bump);
    await Promise.all(Array.from({ length: 20 }, () => store.transact(PRODUCT, bump)));
    expect(await readdir(directory)).toEqual(['state.json']);
    expect(await store.transact(PRODUCT, read)).toBe(40);
  });

  it('appends a change as one record, and renames a new snapshot over the file once the journal outgrows it', async () => {
    const path = join(await freshDir(), 'state.json');
    const store = fileState(path, { compactMinBytes: 1024 });
    await store.transact(PRODUCT, bump);
    const snapshot = await stat(path);
    await store.transact(PRODUCT, bump);
    const appended = await stat(path);
    // The same file, grown by one line: readers never see a partial snapshot.
    expect(appended.ino).toBe(snapshot.ino);
    expect(appended.size).toBeGreaterThan(snapshot.size);
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(3);
    let compacted = false;
    for (let i = 0; i < 40 && !compacted; i++) {
      await store.transact(PRODUCT, bump);
      compacted = (await stat(path)).ino !== snapshot.ino;
    }
    expect(compacted).toBe(true);
    // Bounded: the journal never grows past the snapshot and compactMinBytes (plus a record).
    expect((await stat(path)).size).toBeLessThan(2048);
    expect(stateInFile(await readFile(path), PRODUCT)?.highWater).toBe(
      await store.transact(PRODUCT, read),
    );
  });

  it('writeAtomically leaves the old content when the rename cannot happen', async () => {
    const directory = await freshDir();
    // The target is a directory: the rename fails, the temporary file is removed.
    await mkdir(join(directory, 'target'));
    await expect(writeAtomically(join(directory, 'target'), 'new')).rejects.toThrow();
    expect(await readdir(directory)).toEqual(['target']);
  });

  it('moves a corrupted file to FILE.corrupt and starts from a fresh state', async () => {
    const directory = await freshDir();
    const path = join(directory, 'state.json');
    await writeFile(path, '{"version":1,"product":"photo-editor","highWater":17,"licen', {
      mode: 0o600,
    });
    const store = fileState(path);
    expect(await store.transact(PRODUCT, read)).toBe(0);
    expect(await readFile(`${path}.corrupt`, 'utf8')).toContain('"highWater":17');
    expect(await store.transact(PRODUCT, bump)).toBe(1);
    expect(stateInFile(await readFile(path), PRODUCT)?.highWater).toBe(1);
    expect((await readdir(directory)).sort()).toEqual(['state.json', 'state.json.corrupt']);
  });

  it('keeps the copy of an earlier damage: a second one goes to FILE.corrupt.1', async () => {
    const directory = await freshDir();
    const path = join(directory, 'state.json');
    const kept: string[] = [];
    const store = fileState(path, { onRecovery: (event) => kept.push(event.keptAs ?? '') });
    for (const highWater of [17, 23]) {
      await writeFile(path, `{"version":1,"product":"photo-editor","highWater":${highWater},"lic`);
      expect(await store.transact(PRODUCT, read)).toBe(0);
    }
    expect(kept).toEqual([`${path}.corrupt`, `${path}.corrupt.1`]);
    expect(await readFile(`${path}.corrupt`, 'utf8')).toContain('"highWater":17');
    expect(await readFile(`${path}.corrupt.1`, 'utf8')).toContain('"highWater":23');
  });

  it('treats a state of the wrong shape as corrupted (edited by hand)', async () => {
    const path = join(await freshDir(), 'state.json');
    await writeFile(
      path,
      JSON.stringify({ version: 1, product: PRODUCT, highWater: -5, licenses: {}, usage: {} }),
    );
    expect(await fileState(path).transact(PRODUCT, read)).toBe(0);
    expect(JSON.parse(await readFile(`${path}.corrupt`, 'utf8')).highWater).toBe(-5);
  });

  it("refuses another product's state file (a configuration mistake) and leaves it intact", async () => {
    const path = join(await freshDir(), 'state.json');
    const other = JSON.stringify({
      version: 1,
      product: 'other-app',
      highWater: 5,
      licenses: {},
      usage: {},
    });
    await writeFile(path, other, { mode: 0o600 });
    await expect(fileState(path).transact(PRODUCT, read)).rejects.toThrow(
      /belongs to product "other-app"/,
    );
    expect(await readFile(path, 'utf8')).toBe(other);
  });

  it('through a verifier: rollback marks survive a restart', async () => {
    const path = join(await freshDir(), 'state.json');
    const issuer = generateTestKey();
    const clock = testClock();
    const make = () =>
      createVerifier({
        trust: { issuers: [issuer.jwk] },
        product: PRODUCT,
        clock: clock.read,
        state: fileState(path),
      });
    const first = issueLicense(issuer, 'jwt');
    expect((await make().verify(renewLicense(issuer, 'jwt', first).token)).status).toBe('active');
    expect(await make().verify(first.token)).toMatchObject({
      status: 'rolled_back',
      reason: 'older_seq',
    });
  });

  it('keeps the marks of a license id such as "__proto__" through the file (JSON round trip)', async () => {
    const path = join(await freshDir(), 'state.json');
    const issuer = generateTestKey();
    const clock = testClock();
    const make = () =>
      createVerifier({
        trust: { issuers: [issuer.jwk] },
        product: PRODUCT,
        clock: clock.read,
        state: fileState(path),
      });
    const first = issueLicense(issuer, 'cwt', {
      sub: '__proto__',
      quota: { exports: { limit: 2 } },
    });
    await make().verify(renewLicense(issuer, 'cwt', first).token);
    expect((await make().consume(first.token, 'exports')).reason).toBe('rolled_back');
    const { licenses } = stateInFile(await readFile(path), PRODUCT)!;
    expect(Object.getOwnPropertyDescriptor(licenses, '__proto__')?.value).toMatchObject({ seq: 1 });
  });

  describe('lock', () => {
    it('breaks a stale lock whose holder process is dead', async () => {
      const path = join(await freshDir(), 'state.json');
      await writeFile(`${path}.lock`, String(await deadPid()));
      const started = Date.now();
      // A long stale age: only the dead holder can explain the lock being broken.
      expect(
        await fileState(path, { lockTimeoutMs: 5_000, staleLockMs: 600_000 }).transact(
          PRODUCT,
          bump,
        ),
      ).toBe(1);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    // A holder killed between creating the lock (O_EXCL) and writing its pid leaves an
    // empty lock (about once in 30 SIGKILLs of a write loop). Regression: it used to be
    // treated as held by a live process until staleLockMs.
    it('breaks an empty lock left by a holder that died before writing its pid', async () => {
      const path = join(await freshDir(), 'state.json');
      await writeFile(`${path}.lock`, '');
      const old = new Date(Date.now() - 5_000);
      await utimes(`${path}.lock`, old, old);
      expect(
        await fileState(path, { lockTimeoutMs: 2_000, staleLockMs: 600_000 }).transact(
          PRODUCT,
          bump,
        ),
      ).toBe(1);
    });

    it('breaks a lock older than staleLockMs even if its pid is alive (a recycled pid)', async () => {
      const path = join(await freshDir(), 'state.json');
      await writeFile(`${path}.lock`, String(process.pid));
      const old = new Date(Date.now() - 60_000);
      await utimes(`${path}.lock`, old, old);
      expect(
        await fileState(path, { lockTimeoutMs: 2_000, staleLockMs: 30_000 }).transact(
          PRODUCT,
          bump,
        ),
      ).toBe(1);
    });

    it('gives StateLockError when a live holder keeps the lock past the timeout', async () => {
      const path = join(await freshDir(), 'state.json');
      // Held by this very (live) process, freshly: neither dead nor stale.
      await writeFile(`${path}.lock`, String(process.pid));
      const started = Date.now();
      const attempt = fileState(path, { lockTimeoutMs: 150 }).transact(PRODUCT, bump);
      await expect(attempt).rejects.toBeInstanceOf(StateLockError);
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_STATE_LOCKED' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(Date.now() - started).toBeLessThan(2_000);
      // The other holder's lock is left alone.
      expect(await readFile(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    });

    it('waits for a live holder that releases the lock in time', async () => {
      const path = join(await freshDir(), 'state.json');
      await writeFile(`${path}.lock`, String(process.pid));
      setTimeout(() => void rm(`${path}.lock`), 100);
      expect(await fileState(path, { lockTimeoutMs: 5_000 }).transact(PRODUCT, bump)).toBe(1);
    });

    it('releases the lock when the step throws', async () => {
      const directory = await freshDir();
      const path = join(directory, 'state.json');
      const store = fileState(path);
      await expect(
        store.transact(PRODUCT, () => {
          throw new Error('step failed');
        }),
      ).rejects.toThrow('step failed');
      expect(await readdir(directory)).toEqual([]);
      expect(await store.transact(PRODUCT, bump)).toBe(1);
    });

    // A lock that exists but cannot be read or removed (a directory here; in the field a
    // 0600 lock left by the app run once as root, EACCES) must not bypass the deadline.
    // Regression: breakStaleLock answered "retry at once" for any error, and transact spun
    // forever. Run in a child process so a regression cannot hang the test worker.
    it('gives StateLockError, not an endless loop, when the lock cannot be read', async () => {
      ensureBuilt();
      const path = join(await freshDir(), 'state.json');
      await mkdir(`${path}.lock`);
      const child = startFixture('transact-once.mjs', [path, PRODUCT, '200']);
      try {
        const outcome = await Promise.race([
          child.line(),
          new Promise<string>((resolve) => setTimeout(() => resolve('no answer after 3 s'), 3_000)),
        ]);
        expect(outcome).toBe('StateLockError');
      } finally {
        await killFixture(child);
      }
    });
  });
});
