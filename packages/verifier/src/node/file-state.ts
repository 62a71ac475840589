import type { BigIntStats } from 'node:fs';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { copyFile, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '@licensekit/core';
import { joinMarks } from '../state/merge.js';
import { Mutex } from '../state/mutex.js';
import type { StateData, StateStore, Transition } from '../state/state.js';
import { emptyState } from '../state/state.js';
import { writeAtomically } from './atomic-write.js';
import { withFileLock } from './file-lock.js';
import { encodeRecord } from './journal/record.js';
import { continueJournal, readStateFile } from './journal/replay.js';
import { TrackedState } from './journal/tracker.js';

export { writeAtomically } from './atomic-write.js';
export { StateLockError } from './file-lock.js';

export interface FileStateOptions {
  /** Give up acquiring the lock after this many ms (StateLockError). Default 10 000. */
  lockTimeoutMs?: number;
  /** A lock older than this whose holder is gone is broken. Default 10 000 ms. */
  staleLockMs?: number;
  /**
   * The journal is folded into a new snapshot once it is larger than the snapshot and
   * than this many bytes. Default 65 536.
   */
  compactMinBytes?: number;
  /** Told when the file had to be recovered (see StateRecovery); for the app's log. */
  onRecovery?: (event: StateRecovery) => void;
}

/**
 * A recovery the file state made instead of losing marks:
 * - `damaged`: the file was not a clean journal nor a state of the old format (edited,
 *   damaged on disk). A copy was kept at `keptAs`; every record that could be read was
 *   kept (`unreadable` lines could not be);
 * - `behind`: the file held less than this process had already seen (an older copy put
 *   back, the file deleted while the app ran): the marks were joined and written back.
 */
export interface StateRecovery {
  kind: 'damaged' | 'behind';
  path: string;
  keptAs?: string;
  unreadable?: number;
}

const DEFAULT_COMPACT_MIN_BYTES = 65_536;

/** What this process holds of the file: the state, and which version of the file it is. */
interface Held {
  product: string;
  tracked: TrackedState;
  /** Number of the last record in the state. */
  gen: number;
  /** The file as last read or written; undefined while there is none. */
  file: Version | undefined;
  snapshotBytes: number;
  /** Offset past the last record in the state. */
  end: number;
  /** The file is a clean journal ending at `end`; otherwise the next write is a snapshot. */
  appendable: boolean;
}

/**
 * A version of the file: its stat, and the first bytes of its snapshot record (which hold
 * the snapshot's checksum). Appends change the size; a rewrite in place changes the ctime
 * (which no program can set back). A snapshot written by another process is a new inode —
 * but inode numbers are reused at once, and a file replaced twice between two of our
 * calls can come back with our inode number, even our size, within one tick of a coarse
 * file-system clock. Its snapshot is another, though: the tag tells it apart.
 */
interface Version {
  stats: BigIntStats;
  tag: string;
}

const TAG_BYTES = 14; // '{"c":"' and the 8 hex digits of the snapshot record's CRC

function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.tag === b.tag &&
    a.stats.ino === b.stats.ino &&
    a.stats.dev === b.stats.dev &&
    a.stats.size === b.stats.size &&
    a.stats.mtimeNs === b.stats.mtimeNs &&
    a.stats.ctimeNs === b.stats.ctimeNs
  );
}

/**
 * The file's version now, or undefined when there is none. Synchronous on purpose: four
 * system calls of a few microseconds on one open file (so stat and tag describe the same
 * inode), where the promise API would pay a thread-pool round trip for each.
 */
function probe(path: string): Version | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = fstatSync(fd, { bigint: true });
    const head = Buffer.alloc(TAG_BYTES);
    const read = readSync(fd, head, 0, TAG_BYTES, 0);
    return { stats, tag: head.toString('latin1', 0, read) };
  } finally {
    closeSync(fd);
  }
}

const tagOf = (bytes: Buffer) => bytes.toString('latin1', 0, Math.min(TAG_BYTES, bytes.length));

/** Bytes [from, to) of the file. */
async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    const bytes = Buffer.alloc(to - from);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await handle.read(bytes, done, bytes.length - done, from + done);
      if (bytesRead === 0) return bytes.subarray(0, done);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * State in a file (mode 0600) as a journal: a snapshot of the state, then one record per
 * transaction holding only the licenses it touched (./journal/). Safe for several
 * processes sharing it:
 *
 * - every transaction holds `FILE.lock` (./file-lock.ts), checks whether the file changed
 *   since this process last saw it (a stat) and reads only what other processes appended,
 *   so two processes never both spend the last unit of a quota, and a call costs the same
 *   with one license or ten thousand;
 * - a change is appended as one record and fdatasynced before the call returns; a crash
 *   leaves at most a torn last record, which readers ignore and the next writer replaces;
 * - once the journal outgrows the snapshot (and `compactMinBytes`), the state is written
 *   as a new snapshot to a temporary file, fsynced and renamed over the file;
 * - a file of the old format (one JSON state) is read as it is and becomes a journal at
 *   the first write;
 * - a damaged file, or one that holds less than this process has seen, is recovered
 *   without forgetting a readable mark (StateRecovery); another product's file is a
 *   ConfigError and is left alone.
 */
export function fileState(path: string, options: FileStateOptions = {}): StateStore {
  const lock = {
    lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
    staleLockMs: options.staleLockMs ?? 10_000,
  };
  const compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
  const mutex = new Mutex();
  let held: Held | undefined;

  async function current(product: string): Promise<Held> {
    if (held !== undefined && held.product !== product) held = undefined;
    const info = probe(path);
    if (held !== undefined && sameVersion(held.file, info)) return held;
    if (
      held?.appendable &&
      held.file &&
      info &&
      info.tag === held.file.tag &&
      info.stats.ino === held.file.stats.ino &&
      info.stats.size > held.file.stats.size
    ) {
      // Records another process appended to the file we hold: read just those.
      const added = await readRange(path, held.end, Number(info.stats.size));
      const next = continueJournal(held.tracked.view, held.gen, added, 0, product);
      if (next !== undefined) {
        held.gen = next.gen;
        held.end += next.end;
        held.appendable = !next.torn;
        held.file = info;
        held.tracked.resync();
        return held;
      }
    }
    return readWhole(product, info);
  }

  async function readWhole(product: string, info: Version | undefined): Promise<Held> {
    const previous = held;
    held = undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = info === undefined ? undefined : await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const found = bytes === undefined ? undefined : readStateFile(bytes, product);
    const next: Held = {
      product,
      tracked: undefined as unknown as TrackedState,
      gen: 0,
      // The tag of what was read: should the file have changed since the probe, the next
      // probe sees another version and reads again.
      file: bytes === undefined || info === undefined ? undefined : { ...info, tag: tagOf(bytes) },
      snapshotBytes: 0,
      end: 0,
      appendable: false,
    };
    let state = emptyState(product);
    let rewrite = false;
    if (found?.kind === 'foreign') {
      // Another product's state: a configuration mistake, not damage — never touch it.
      throw new ConfigError(
        `the state file ${basename(path)} belongs to product "${found.owner}"; give each product its own`,
      );
    } else if (found?.kind === 'journal') {
      state = found.state;
      Object.assign(next, {
        gen: found.gen,
        snapshotBytes: found.snapshotBytes,
        end: found.end,
        appendable: !found.torn,
      });
    } else if (found?.kind === 'legacy') {
      state = found.state;
    } else if (found?.kind === 'damaged') {
      const keptAs = await keepDamaged(path);
      state = found.state;
      next.gen = found.gen;
      rewrite = true;
      options.onRecovery?.({ kind: 'damaged', path, keptAs, unreadable: found.unreadable });
    }
    // A clean journal at or past the record this process last saw is newer than what it
    // holds: a license missing from it was forgotten by another process, not lost. Any
    // other file (older, damaged, of the old format, gone) may have lost marks: join
    // what this process saw. (A copy put back and then written past our record by
    // another process is taken as newer; telling that apart would need a chain of
    // record hashes.)
    const newer = found?.kind === 'journal' && previous !== undefined && found.gen >= previous.gen;
    if (previous !== undefined && !newer) {
      next.gen = Math.max(next.gen, previous.gen);
      if (joinMarks(state, previous.tracked.plain())) {
        rewrite = true;
        options.onRecovery?.({ kind: 'behind', path });
      }
    }
    next.tracked = new TrackedState(state);
    if (rewrite) await writeSnapshot(next, next.gen + 1);
    held = next;
    return next;
  }

  async function writeSnapshot(target: Held, gen: number): Promise<void> {
    const bytes = encodeRecord({ journal: 1, gen, state: target.tracked.plain() });
    await writeAtomically(path, bytes);
    target.file = { stats: await stat(path, { bigint: true }), tag: tagOf(bytes) };
    target.gen = gen;
    target.snapshotBytes = target.end = bytes.length;
    target.appendable = true;
    target.tracked.committed();
  }

  async function persist(target: Held): Promise<void> {
    const ops = target.tracked.changes();
    if (ops === 'snapshot' || !target.appendable || target.file === undefined) {
      await writeSnapshot(target, target.gen + 1);
      return;
    }
    if (ops.length === 0) return target.tracked.committed();
    const line = encodeRecord({ gen: target.gen + 1, ops });
    const handle = await open(path, constants.O_WRONLY | constants.O_APPEND);
    let after: BigIntStats;
    try {
      // A file made readable by others goes back to 0600 (a snapshot would be 0600 too).
      if ((target.file.stats.mode & 0o777n) !== 0o600n) await handle.chmod(0o600);
      let written = 0;
      while (written < line.length) {
        written += (await handle.write(line, written, line.length - written)).bytesWritten;
      }
      await handle.datasync();
      after = await handle.stat({ bigint: true });
    } finally {
      await handle.close();
    }
    if (after.ino !== target.file.stats.ino) {
      // Replaced between our stat and our open (by something that ignores the lock):
      // read it again next time.
      held = undefined;
      return;
    }
    target.file = { stats: after, tag: target.file.tag };
    target.gen += 1;
    target.end += line.length;
    target.tracked.committed();
    const journalBytes = target.end - target.snapshotBytes;
    if (journalBytes > Math.max(target.snapshotBytes, compactMinBytes)) {
      // The change is on disk already: a compaction that fails (a full disk) must not
      // fail the call. The journal stays valid; the next append tries again.
      await writeSnapshot(target, target.gen).catch(() => undefined);
    }
  }

  return {
    transact<T>(product: string, step: (state: StateData) => Transition<T>): Promise<T> {
      return mutex.run(() =>
        withFileLock(path, lock, async () => {
          await removeDebris(path);
          const target = await current(product);
          target.tracked.begin();
          let transition: Transition<T>;
          try {
            transition = step(target.tracked.view);
          } catch (error) {
            // The step may have changed the state before it threw: read it again.
            held = undefined;
            throw error;
          }
          if (!transition.changed) {
            if (target.tracked.wrote()) held = undefined;
            return transition.value;
          }
          try {
            await persist(target);
          } catch (error) {
            held = undefined;
            throw error;
          }
          return transition.value;
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

/**
 * Copies a damaged state file beside it for inspection: `PATH.corrupt`, or `PATH.corrupt.N`
 * when earlier copies are there, so a second damage never overwrites the evidence of the
 * first. Best effort (the salvage goes on without a copy): answers the name tried last.
 */
async function keepDamaged(path: string): Promise<string> {
  for (let n = 0; n < 100; n++) {
    const keptAs = n === 0 ? `${path}.corrupt` : `${path}.corrupt.${n}`;
    try {
      await copyFile(path, keptAs, constants.COPYFILE_EXCL);
      return keptAs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return keptAs;
    }
  }
  return `${path}.corrupt`;
}
