/**
 * Tracks a sequence that should count 0, 1, 2, … (log indexes, a license's seq) in a few
 * numbers: the highest seen and the ranges skipped so far. A later value that falls in a
 * skipped range is out of order (and closes that part of the gap); one at or below the
 * highest that is in no gap is a repeat. Memory stays small as long as the sequence is
 * nearly in order, which an honest log always is.
 */
export type Observation = 'next' | 'jump' | 'filled' | 'repeat';

/** [start, end): values not seen (yet). */
export type Range = readonly [number, number];

export class GapTracker {
  #highest = -1;
  /** Created at the first gap: an honest lineage never has one, and there is one per license. */
  #gaps: Range[] | undefined;

  get highest(): number {
    return this.#highest;
  }

  observe(value: number): Observation {
    if (value === this.#highest + 1) {
      this.#highest = value;
      return 'next';
    }
    if (value > this.#highest) {
      this.#gaps ??= [];
      this.#gaps.push([this.#highest + 1, value]);
      this.#highest = value;
      return 'jump';
    }
    if (this.#gaps === undefined) return 'repeat';
    const at = this.#gaps.findIndex(([start, end]) => value >= start && value < end);
    if (at === -1) return 'repeat';
    const [start, end] = this.#gaps[at]!;
    const rest: Range[] = [];
    if (start < value) rest.push([start, value]);
    if (value + 1 < end) rest.push([value + 1, end]);
    this.#gaps.splice(at, 1, ...rest);
    return 'filled';
  }

  /** The values still missing, as ranges. */
  gaps(): readonly Range[] {
    return this.#gaps ?? [];
  }
}

/** "5", "5–7" for a range [start, end). */
export function rangeText([start, end]: Range): string {
  return end - start === 1 ? String(start) : `${start}–${end - 1}`;
}
