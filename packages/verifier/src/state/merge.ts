/**
 * The join of two states' marks. Every mark the verifier keeps only ever moves one way:
 * the high-water mark up, a license's `seq` up, a quota's `(window, used)` up in that
 * order (a later window restarts the count), the revocation list's `seq` up. So of two
 * copies of one state (the file and what a process holds in memory, or the readable parts
 * of a damaged file) the join keeps, mark by mark, the one further along: no spent quota
 * and no accepted token is forgotten because one copy is behind. Used by the file state
 * when it finds its file older than what it has seen (a backup restored, the file deleted
 * while the app runs) and when it salvages a damaged file.
 */
import type { StateData } from './state.js';
import { getOwn, setOwn } from './state.js';

/**
 * Raises the marks of `base` to those of `other`, in place. `base` keeps its own
 * `pendingRequests` (not a mark: requests are forgotten as they are answered) and any
 * member this code does not know. Returns whether `base` changed.
 */
export function joinMarks(base: StateData, other: StateData): boolean {
  let changed = false;
  if (other.highWater > base.highWater) {
    base.highWater = other.highWater;
    changed = true;
  }
  for (const [sub, theirs] of Object.entries(other.licenses)) {
    const ours = getOwn(base.licenses, sub);
    if (ours === undefined || theirs.seq > ours.seq) {
      setOwn(base.licenses, sub, { seq: theirs.seq, hash: theirs.hash });
      changed = true;
    }
  }
  for (const [sub, theirQuotas] of Object.entries(other.usage)) {
    let ours = getOwn(base.usage, sub);
    for (const [name, theirs] of Object.entries(theirQuotas)) {
      const mine = ours === undefined ? undefined : getOwn(ours, name);
      if (
        mine === undefined ||
        theirs.window > mine.window ||
        (theirs.window === mine.window && theirs.used > mine.used)
      ) {
        if (ours === undefined) {
          ours = {};
          setOwn(base.usage, sub, ours);
        }
        setOwn(ours, name, { window: theirs.window, used: theirs.used });
        changed = true;
      }
    }
  }
  if (
    other.revocations !== undefined &&
    (base.revocations === undefined || other.revocations.seq > base.revocations.seq)
  ) {
    base.revocations = { token: other.revocations.token, seq: other.revocations.seq };
    changed = true;
  }
  return changed;
}
