/**
 * Breaking a stale lock must not break a live one. Two processes waiting on the lock of a
 * holder that died both find it stale; the first removes it and takes the lock, and the
 * second — still acting on what it read before — must not then remove the first one's
 * lock: both would be inside the critical section, both could spend the last unit of a
 * quota, and their two records with the same `gen` would make the file damaged.
 *
 * The interleaving is made exact by a hook on the read of the lock: right after a waiter
 * has read the dead holder's pid, another process breaks that lock and takes its own.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StateLockError, withFileLock } from './file-lock.js';

/** Runs once, after the first read of a lock file has its bytes and before it returns them. */
const afterFirstLockRead: { run: (() => Promise<void>) | undefined } = { run: undefined };

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readFileHooked = async (...args: Parameters<typeof real.readFile>) => {
    const content = await real.readFile(...args);
    const [path] = args;
    const hook = afterFirstLockRead.run;
    if (typeof path === 'string' && path.endsWith('.lock') && hook !== undefined) {
      afterFirstLockRead.run = undefined;
      await hook();
    }
    return content;
  };
  return { ...real, readFile: readFileHooked };
});

/** The pid of a process that has exited (and been reaped): no process has it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  return pid;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'licensekit-file-lock-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('breaking a stale lock', () => {
  it('leaves alone a lock another waiter took after it read the dead holder', async () => {
    const directory = join(root, 'race');
    await mkdir(directory);
    const path = join(directory, 'state.json');
    const lockPath = `${path}.lock`;
    await writeFile(lockPath, String(await deadPid()));
    // Another waiter (this live process stands for it) breaks the dead holder's lock and
    // takes its own, just after our waiter has read the dead pid.
    afterFirstLockRead.run = async () => {
      await unlink(lockPath);
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
    };
    let entered = false;
    const attempt = withFileLock(path, { lockTimeoutMs: 200, staleLockMs: 600_000 }, async () => {
      entered = true;
    });
    await expect(attempt).rejects.toBeInstanceOf(StateLockError);
    expect(entered).toBe(false);
    // The live holder's lock is still there, as it wrote it.
    expect(await readFile(lockPath, 'utf8')).toBe(String(process.pid));
  });
});
