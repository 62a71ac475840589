/**
 * A whole log tree in memory: what an auditor rebuilds from an export to recompute every
 * checkpoint's root and proof, and what tests use as a log. A store keeps the same nodes
 * in a table instead; both are `TreeReader`s.
 */
import { ConfigError } from '../errors.js';
import { appendLeaves, EMPTY_FRONTIER, type Frontier, frontierRoot } from './frontier.js';
import type { TreeReader } from './merkle.js';

export class MemoryTree implements TreeReader {
  // levels[level][index]: every perfect subtree completed so far.
  readonly #levels: Uint8Array[][] = [];
  #frontier: Frontier = EMPTY_FRONTIER;

  /** The number of leaves. */
  get size(): number {
    return this.#frontier.size;
  }

  /** The current frontier (see `appendLeaves`). */
  get frontier(): Frontier {
    return this.#frontier;
  }

  /**
   * Appends leaf hashes and returns the new root.
   * @example
   * const root = await tree.append([await leafHash(logEntry('license', document.bytes))]);
   */
  async append(leafHashes: readonly Uint8Array[]): Promise<Uint8Array> {
    const { frontier, root, completed } = await appendLeaves(this.#frontier, leafHashes);
    for (const { level, index, hash } of completed) {
      const row = this.#levels[level] ?? [];
      row[index] = hash;
      this.#levels[level] = row;
    }
    this.#frontier = frontier;
    return root;
  }

  /** The current root hash. */
  async root(): Promise<Uint8Array> {
    return frontierRoot(this.#frontier);
  }

  /** @throws ConfigError for a subtree the tree has not completed */
  async nodeHash(level: number, index: number): Promise<Uint8Array> {
    const hash = this.#levels[level]?.[index];
    if (hash === undefined) {
      throw new ConfigError(`the tree of ${this.size} leaves has no node (${level}, ${index})`);
    }
    return hash;
  }
}
