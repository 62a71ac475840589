import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * An exclusive lock on an embedded database directory, held by one process at a time.
 *
 * PGlite is one PostgreSQL backend inside one process: two processes on one directory
 * each keep their own view of the files, neither sees the other's writes, and together
 * they corrupt the directory. PostgreSQL itself guards its data directory with
 * postmaster.pid; this is the same idea for the store: `<dir>.lock` beside the directory,
 * holding the owner's pid, host and start time.
 *
 * Taken atomically with link(2) of a fully written file (never a half-written lock), so
 * of two processes starting together exactly one wins. A lock whose owner is gone (same
 * host, pid no longer alive: the store was killed) is stale and broken; a lock from
 * another host, or from a live process, is refused with a message naming the owner.
 */

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO 8601, when the owner took the lock. */
  since: string;
}

/** The directory is in use by another store process. */
export class DirectoryLockedError extends Error {
  readonly code = 'DATA_DIRECTORY_LOCKED';
  constructor(
    readonly lockPath: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(lockedMessage(lockPath, owner));
    this.name = 'DirectoryLockedError';
  }
}

function lockedMessage(lockPath: string, owner: LockOwner | undefined): string {
  const directory = lockPath.replace(/\.lock$/, '');
  if (!owner) {
    return `the database directory ${directory} is locked by another process (${lockPath} cannot be read); if no store runs on it, delete ${lockPath}`;
  }
  const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
  return `the database directory ${directory} is in use by another licensekit store (pid ${owner.pid}${where}, since ${owner.since}); stop that process first, or give this one its own --data directory. If that process is gone, delete ${lockPath}`;
}

export interface DirectoryLock {
  readonly path: string;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/**
 * Whether a process with this pid runs on this host (EPERM: it exists, not ours). A killed
 * store whose parent has not reaped it yet is a zombie: its pid exists, but it holds
 * nothing, so on Linux /proc tells it apart.
 */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": the state letter follows the last ')' (comm may hold parentheses).
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof value.pid === 'number' &&
      Number.isSafeInteger(value.pid) &&
      value.pid > 0 &&
      typeof value.host === 'string' &&
      typeof value.since === 'string'
    ) {
      return { pid: value.pid, host: value.host, since: value.since };
    }
  } catch {
    // Not JSON: judged below by its age.
  }
  return undefined;
}

async function readLock(path: string): Promise<{ text: string; owner?: LockOwner } | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const owner = parseOwner(text);
    return owner ? { text, owner } : { text };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * A lock nobody holds any more: its owner's pid is dead on this host. An unreadable lock
 * (not written by this code: link(2) never exposes a partial file) counts as stale once it
 * is older than a minute, so a stray file cannot block a store for ever.
 */
async function isStale(path: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner)
    return owner.host === hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
  try {
    const { mtimeMs } = await stat(path);
    return Date.now() - mtimeMs > 60_000;
  } catch {
    return true;
  }
}

const MAX_ATTEMPTS = 5;

/** Takes the lock for `directory` (the file `<directory>.lock`), or throws DirectoryLockedError. */
export async function lockDirectory(directory: string): Promise<DirectoryLock> {
  const path = `${directory}.lock`;
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const text = `${JSON.stringify(me)}\n`;
  const staging = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(staging, text, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await link(staging, path);
        return ownedLock(path, text);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = await readLock(path);
      if (held === undefined) continue; // released in between: try again
      if (!(await isStale(path, held.owner))) throw new DirectoryLockedError(path, held.owner);
      await breakStaleLock(path, held.text);
    }
    throw new DirectoryLockedError(path, (await readLock(path))?.owner);
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

/**
 * Moves a stale lock aside, then checks that what was moved is the lock judged stale: if
 * another process broke it and took the lock in between, its fresh lock is put back.
 */
async function breakStaleLock(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function ownedLock(path: string, text: string): DirectoryLock {
  let released = false;
  // A process that exits without closing the store (process.exit in a signal handler, an
  // uncaught error) still leaves no lock behind; SIGKILL does, and that one is stale.
  const onExit = () => {
    if (released) return;
    try {
      unlinkSync(path);
    } catch {
      // Gone already.
    }
  };
  process.once('exit', onExit);
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      const held = await readLock(path).catch(() => undefined);
      if (held?.text === text) await unlink(path).catch(() => undefined);
    },
  };
}
