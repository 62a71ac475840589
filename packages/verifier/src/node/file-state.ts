import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError, LicenseKitError } from '@licensekit/core';
import { Mutex } from '../state/mutex.js';
import type { StateData, StateStore, Transition } from '../state/state.js';
import { emptyState, parseState } from '../state/state.js';

export interface FileStateOptions {
  /** Give up acquiring the lock after this many ms (StateLockError). Default 10 000. */
  lockTimeoutMs?: number;
  /** A lock older than this whose holder is gone is broken. Default 10 000 ms. */
  staleLockMs?: number;
}

/** The state file stayed locked past the timeout (another process holds it). */
export class StateLockError extends LicenseKitError {
  constructor(path: string) {
    super(
      'ERR_STATE_LOCKED',
      `the verifier state ${basename(path)} stayed locked by another process; try again`,
    );
  }
}

/**
 * State in a JSON file (mode 0600), safe for several processes sharing it:
 *
 * - every transaction holds `FILE.lock`, created with O_EXCL (a lock whose holder died, or
 *   that is older than `staleLockMs`, is broken), and re-reads the file inside the lock,
 *   so two processes never both spend the last unit of a quota;
 * - a write goes to a temporary file in the same directory, is fsynced, then renamed over
 *   the state (rename is atomic on POSIX file systems), so a crash at any instant leaves
 *   either the old or the new state, never a torn one;
 * - a file that is not a valid state (edited, truncated by hand) is moved to FILE.corrupt
 *   and replaced by a fresh state. Like deleting the file, that forgets the marks: an
 *   app-side state can raise the cost of cheating, not make it impossible.
 */
export function fileState(path: string, options: FileStateOptions = {}): StateStore {
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const staleLockMs = options.staleLockMs ?? 10_000;
  const lockPath = `${path}.lock`;
  const mutex = new Mutex();

  async function withLock<T>(section: () => Promise<T>): Promise<T> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + lockTimeoutMs;
    let wait = 1;
    for (;;) {
      try {
        const handle = await open(
          lockPath,
          constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
          0o600,
        );
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await breakStaleLock(lockPath, staleLockMs)) continue;
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

  async function load(product: string): Promise<StateData> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(product);
      throw error;
    }
    const state = parseState(text, product);
    if (state) return state;
    const owner = productOf(text);
    if (owner !== undefined && owner !== product) {
      // Another product's state: a configuration mistake, not damage — never wipe it.
      throw new ConfigError(
        `the state file ${basename(path)} belongs to product "${owner}"; give each product its own`,
      );
    }
    await rename(path, `${path}.corrupt`).catch(() => undefined);
    return emptyState(product);
  }

  return {
    transact<T>(product: string, step: (state: StateData) => Transition<T>): Promise<T> {
      return mutex.run(() =>
        withLock(async () => {
          await removeDebris(path);
          const state = await load(product);
          const { changed, value } = step(state);
          if (changed) await writeAtomically(path, JSON.stringify(state));
          return value;
        }),
      );
    },
  };
}

/**
 * Temporary files of writes a crash interrupted. Only the lock holder writes the state, so
 * while we hold the lock every such file is debris. Once per process is enough.
 */
const cleaned = new Set<string>();
async function removeDebris(path: string): Promise<void> {
  if (cleaned.has(path)) return;
  cleaned.add(path);
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix) && name.endsWith('.tmp'))
      .map((name) => unlink(join(dirname(path), name)).catch(() => undefined)),
  );
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

/**
 * Writes `text` to `path` so that readers see the old or the new content, never a mix.
 * Mode 0600 by default (state and keys); documents meant to be carried elsewhere (an
 * offline request, its QR codes) pass 0o644.
 */
export async function writeAtomically(
  path: string,
  text: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const handle = await open(
    temporary,
    constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
    mode,
  );
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  // Persist the rename itself (the directory entry); not every platform allows it.
  const directory = await open(dirname(path), constants.O_RDONLY).catch(() => undefined);
  await directory?.sync().catch(() => undefined);
  await directory?.close();
}

/** The product a stored state names, if the text is a JSON object naming one. */
function productOf(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { product?: unknown };
    return typeof value?.product === 'string' ? value.product : undefined;
  } catch {
    return undefined;
  }
}
