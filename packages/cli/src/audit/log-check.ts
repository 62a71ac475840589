/**
 * The log checks: every checkpoint signed by the trusted log key; no two checkpoints of one
 * size with different roots (a fork); sizes never going down over time (a shrink); the
 * root recomputed from the exported entries equal to every checkpoint's at its size; the
 * entries indexed 0, 1, 2, … and none beyond the newest signed checkpoint.
 *
 * The tree is recomputed with an append-only frontier (tree.ts), O(log n) hashes of state,
 * so memory does not grow with the log.
 */
import {
  type Checkpoint,
  EMPTY_FRONTIER,
  frontierRoot,
  type NoteVerifierKey,
  openCheckpoint,
} from '@licensekit/core/log';
import type { Findings } from './findings.js';
import { GapTracker, rangeText } from './gaps.js';
import { AuditFrontier } from './tree.js';

export type CheckpointSource = 'head' | 'history' | 'known';

export interface SignedCheckpoint {
  readonly size: number;
  readonly root: string;
  /** When the store says it signed it (history only). */
  readonly createdAt?: number;
  readonly source: CheckpointSource;
  /** Where it came from, for messages: "checkpoint.txt", "checkpoints.jsonl line 3". */
  readonly where: string;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export class LogAudit {
  readonly #findings: Findings;
  readonly #keys: readonly NoteVerifierKey[];
  readonly #checkpoints: SignedCheckpoint[] = [];
  #head: SignedCheckpoint | undefined;
  /** Sizes whose roots are still to be compared, ascending. */
  #pending: number[] = [];
  readonly #tree = new AuditFrontier(EMPTY_FRONTIER);
  readonly #indexes = new GapTracker();
  #firstUnsigned: number | undefined;

  constructor(findings: Findings, keys: readonly NoteVerifierKey[]) {
    this.#findings = findings;
    this.#keys = keys;
  }

  get head(): SignedCheckpoint | undefined {
    return this.#head;
  }

  /** Distinct signed checkpoints (the newest is usually in the history too). */
  get checkpointCount(): number {
    return new Set(this.#checkpoints.map((checkpoint) => `${checkpoint.size} ${checkpoint.root}`))
      .size;
  }

  /** Leaves appended so far. */
  get size(): number {
    return this.#tree.size;
  }

  /** Opens a checkpoint with the trusted log key; a bad one is a finding and is dropped. */
  async addCheckpoint(
    note: string,
    source: CheckpointSource,
    where: string,
    createdAt?: number,
  ): Promise<SignedCheckpoint | undefined> {
    let checkpoint: Checkpoint;
    try {
      checkpoint = await openCheckpoint(note, this.#keys);
    } catch (error) {
      this.#findings.add(
        'log.checkpoint_signature',
        `${where}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    }
    const signed: SignedCheckpoint = {
      size: checkpoint.size,
      root: hex(checkpoint.rootHash),
      source,
      where,
      ...(createdAt === undefined ? {} : { createdAt }),
    };
    this.#checkpoints.push(signed);
    if (source === 'head') this.#head = signed;
    return signed;
  }

  /**
   * Fork and shrink checks among the checkpoints, before the entries are read; then the
   * sizes whose roots the entries must reproduce.
   */
  checkCheckpoints(): void {
    const bySize = new Map<number, SignedCheckpoint>();
    for (const checkpoint of this.#checkpoints) {
      const other = bySize.get(checkpoint.size);
      if (other === undefined) bySize.set(checkpoint.size, checkpoint);
      else if (other.root !== checkpoint.root) {
        this.#findings.add(
          'log.fork',
          `two signed checkpoints of size ${checkpoint.size} with different roots: ${other.where} (${other.root}) and ${checkpoint.where} (${checkpoint.root})`,
        );
      }
    }
    // Over time (the order the store signed them in), sizes never go down.
    const history = this.#checkpoints
      .filter((checkpoint) => checkpoint.source === 'history')
      .map((checkpoint, order) => ({ checkpoint, order }))
      .sort(
        (a, b) =>
          (a.checkpoint.createdAt ?? 0) - (b.checkpoint.createdAt ?? 0) || a.order - b.order,
      );
    let largest: SignedCheckpoint | undefined;
    for (const { checkpoint } of history) {
      if (largest !== undefined && checkpoint.size < largest.size) {
        this.#findings.add(
          'log.shrunk',
          `${checkpoint.where} signs ${checkpoint.size} entries after ${largest.where} signed ${largest.size}: the log shrank`,
        );
      }
      if (largest === undefined || checkpoint.size > largest.size) largest = checkpoint;
    }
    const head = this.#head;
    if (head !== undefined) {
      for (const checkpoint of this.#checkpoints) {
        if (checkpoint.size > head.size) {
          this.#findings.add(
            'log.shrunk',
            `the newest checkpoint (${head.where}) signs ${head.size} entries, but ${checkpoint.where} signed ${checkpoint.size}: the log shrank`,
          );
        }
      }
    }
    this.#pending = [...bySize.keys()].sort((a, b) => a - b);
  }

  /** Index order of one entry (line order is log order). */
  observeIndex(index: number, line: number): void {
    const seen = this.#indexes.observe(index);
    if (seen === 'filled') {
      this.#findings.add(
        'log.index_out_of_order',
        `entries.jsonl line ${line}: index ${index} comes after index ${this.#indexes.highest}: entries reordered`,
        { index },
      );
    } else if (seen === 'repeat') {
      this.#findings.add(
        'log.index_out_of_order',
        `entries.jsonl line ${line}: index ${index} appears again`,
        { index },
      );
    }
  }

  /**
   * Appends leaves in line order, comparing the root with every checkpoint whose size is
   * reached, at the leaf that reaches it.
   */
  async appendLeaves(leaves: readonly Uint8Array[]): Promise<void> {
    await this.#compareReached();
    for (const leaf of leaves) {
      this.#tree.append(leaf);
      if (this.#pending[0] === this.#tree.size) await this.#compareReached();
    }
    const headSize = this.#head?.size;
    if (headSize !== undefined && this.#tree.size > headSize && this.#firstUnsigned === undefined)
      this.#firstUnsigned = headSize;
  }

  async #compareReached(): Promise<void> {
    while (this.#pending[0] === this.#tree.size) {
      const size = this.#pending.shift()!;
      const root = hex(await frontierRoot(this.#tree.frontier));
      for (const checkpoint of this.#checkpoints) {
        if (checkpoint.size !== size || checkpoint.root === root) continue;
        this.#findings.add(
          'log.root_mismatch',
          `the first ${size} exported entries have root ${root}, but ${checkpoint.where} signs ${checkpoint.root}: entries were changed, removed, added or reordered`,
          size > 0 ? { index: size - 1 } : {},
        );
      }
    }
  }

  /** After the last entry: sizes never reached, skipped indexes, unsigned entries. */
  async finish(): Promise<void> {
    await this.#compareReached();
    const size = this.#tree.size;
    for (const pending of this.#pending) {
      const where = this.#checkpoints
        .filter((checkpoint) => checkpoint.size === pending)
        .map((checkpoint) => checkpoint.where)
        .join(', ');
      this.#findings.add(
        'log.shrunk',
        `the export has ${size} entries, but ${where} signs ${pending}: entries are missing or the log shrank`,
      );
    }
    for (const range of this.#indexes.gaps()) {
      this.#findings.add(
        'log.index_gap',
        `no entry with index ${rangeText(range)}: ${range[1] - range[0]} entr${range[1] - range[0] === 1 ? 'y' : 'ies'} missing from the export`,
        { index: range[0] },
      );
    }
    if (this.#firstUnsigned !== undefined) {
      this.#findings.add(
        'log.unsigned_entries',
        `${size - this.#firstUnsigned} entries from index ${this.#firstUnsigned} are beyond the newest checkpoint (${this.#firstUnsigned}): no signed checkpoint covers them`,
        { index: this.#firstUnsigned },
      );
    }
    this.#pending = [];
  }
}
