/**
 * The audit's Merkle frontier, appended to synchronously. Core's `appendLeaves`
 * (log/frontier.ts) hashes through the platform's promise-returning SHA-256 (browsers have
 * only `crypto.subtle`) and records every node it completes for a store to keep; an audit
 * of a million entries needs neither, and an await and an object per node hash are a
 * measurable share of its main thread. Same RFC 9162 arithmetic, tested equal to core's.
 */
import { hash } from 'node:crypto';
import type { Frontier } from '@licensekit/core/log';

const HASH_LENGTH = 32;
/** RFC 9162 §2.1.1: an interior node hashes 0x01 ‖ left ‖ right. */
const NODE_PREFIX = 0x01;

export class AuditFrontier {
  #size: number;
  readonly #nodes: Uint8Array[];
  /** One input buffer for every node hash: 0x01 ‖ left ‖ right. */
  readonly #input = Buffer.alloc(1 + 2 * HASH_LENGTH);

  constructor(start: Frontier) {
    this.#size = start.size;
    this.#nodes = [...start.nodes];
    this.#input[0] = NODE_PREFIX;
  }

  get size(): number {
    return this.#size;
  }

  /** The frontier as core's functions take it (a copy: later appends do not change it). */
  get frontier(): Frontier {
    return { size: this.#size, nodes: [...this.#nodes] };
  }

  /**
   * Appends one leaf hash. A leaf at an odd index completes its parent with the smallest
   * frontier node, and so on up, for as many levels as the index has trailing one bits.
   * @throws Error for a leaf that is not a 32-byte hash, or a log at 2^53 - 1 leaves
   */
  append(leaf: Uint8Array): void {
    if (leaf.length !== HASH_LENGTH) throw new Error('a leaf hash is 32 bytes');
    if (this.#size === Number.MAX_SAFE_INTEGER) throw new Error('the log cannot grow further');
    let node = leaf;
    for (let index = this.#size; index % 2 === 1; index = (index - 1) / 2) {
      node = this.#nodeHash(this.#nodes.pop()!, node);
    }
    this.#nodes.push(node);
    this.#size += 1;
  }

  #nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
    this.#input.set(left, 1);
    this.#input.set(right, 1 + HASH_LENGTH);
    return hash('sha256', this.#input, 'buffer');
  }
}
