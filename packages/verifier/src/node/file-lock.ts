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
      const handle = await open(
        lockPath,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
        0o600,
      );
      try {
        await handle.writeFile(String(process.pid));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !madeDirectory) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        madeDirectory = true;
        continue;
      }
      if (code !== 'EEXIST') throw error;
      if (await breakStaleLock(lockPath, options.staleLockMs)) continue;
      if (Date.now() > deadline) throw new StateLockError(path);
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 50);
    }
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
 */
async function breakStaleLock(lockPath: string, staleLockMs: number): Promise<boolean> {
  try {
    const [info, holder] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    const age = Date.now() - info.mtimeMs;
    const pid = Number.parseInt(holder, 10);
    const holderGone =
      (holder.trim() === '' && age > EMPTY_LOCK_GRACE_MS) ||
      (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid));
    if (!holderGone && age < staleLockMs) return false;
    await unlink(lockPath);
    return true;
  } catch (error) {
    // Released between our attempts: retry at once. Anything else (the lock is a
    // directory, unreadable): keep waiting, so the deadline applies.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
