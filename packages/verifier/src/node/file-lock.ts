import { constants } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LicenseKitError } from '@licensekit/core';

/** The state file stayed locked past the timeout (another process holds it). */
export class StateLockError extends LicenseKitError {
  constructor(path: string) {
    super(
      'ERR_STATE_LOCKED',
      `the verifier state ${basename(path)} stayed locked by another process; try again`,
    );
  }
}

export interface LockOptions {
  lockTimeoutMs: number;
  staleLockMs: number;
}

/**
 * Holds `PATH.lock` (created with O_EXCL, holding our pid) while `section` runs: the
 * exclusion between processes sharing one state file. A lock whose holder died, that
 * never got a pid, or that is older than `staleLockMs` is broken; waiting longer than
 * `lockTimeoutMs` throws StateLockError. The state's directory is created (mode 0700)
 * when the lock finds it missing.
 */
export async function withFileLock<T>(
  path: string,
  options: LockOptions,
  section: () => Promise<T>,
): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + options.lockTimeoutMs;
  let wait = 1;
  let madeDirectory = false;
  for (;;) {
    try {
      if (await createWithPid(lockPath)) break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !madeDirectory) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        madeDirectory = true;
        continue;
      }
      throw error;
    }
    if (await breakStaleLock(lockPath, options.staleLockMs)) continue;
    if (Date.now() > deadline) throw new StateLockError(path);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 50);
  }
  try {
    return await section();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

// A holder writes its pid right after creating the lock; an empty lock older than this
// belongs to a process that died in between.
const EMPTY_LOCK_GRACE_MS = 2_000;

/**
 * Breaks the lock when its holder is gone: its pid is not alive, it never wrote a pid, or
 * the lock is older than `staleLockMs` (a recycled pid). Returns whether to retry at once.
 *
 * Judging and removing are two steps, so two waiters may both judge the same dead lock
 * stale; were each to remove "the lock" then, the second would remove the lock the first
 * has just taken, and both would spend from the same state. So the lock is judged again
 * and removed only under `PATH.lock.break` (O_EXCL, holding the pid, held for a few
 * milliseconds): while a waiter holds it, nobody else removes the lock, so what it judged
 * is what it removes. A waiter that finds it taken waits its turn; one left by a process
 * that died holding it is removed by the same rules as a lock (that rare removal is not
 * itself guarded).
 */
async function breakStaleLock(lockPath: string, staleLockMs: number): Promise<boolean> {
  try {
    if (!(await holderGone(lockPath, staleLockMs))) return false;
    const breaker = `${lockPath}.break`;
    if (!(await createWithPid(breaker))) {
      if (await holderGone(breaker, staleLockMs)) await unlink(breaker);
      return false;
    }
    try {
      if (!(await holderGone(lockPath, staleLockMs))) return false;
      await unlink(lockPath);
      return true;
    } finally {
      await unlink(breaker).catch(() => undefined);
    }
  } catch (error) {
    // Released between our attempts: retry at once. Anything else (the lock is a
    // directory, unreadable): keep waiting, so the deadline applies.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Creates `path` (O_EXCL) holding our pid; false when it exists. */
async function createWithPid(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(String(process.pid));
  } finally {
    await handle.close();
  }
  return true;
}

/** Whether the process that created the lock file `path` is gone (see breakStaleLock). */
async function holderGone(path: string, staleLockMs: number): Promise<boolean> {
  const [info, holder] = await Promise.all([stat(path), readFile(path, 'utf8')]);
  const age = Date.now() - info.mtimeMs;
  const pid = Number.parseInt(holder, 10);
  return (
    (holder.trim() === '' && age > EMPTY_LOCK_GRACE_MS) ||
    (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) ||
    age >= staleLockMs
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
