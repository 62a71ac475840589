/**
 * The right edge of a growing log (a "compact range" over [0, size)): the roots of the
 * perfect subtrees that make up the tree, one per set bit of its size, largest first.
 * Appending a leaf merges equal-sized subtrees like a binary counter carries, so it costs
 * O(log n) hashes and needs nothing but the frontier: the log never rereads old leaves.
 *
 * Every merge completes a perfect subtree; append returns those nodes so that a store can
 * keep them keyed by (level, index) and later serve any proof from them (`TreeReader`).
 * The frontier itself is a set of such nodes (`frontierAddresses`), so a store that keeps
 * the completed nodes can rebuild it with `loadFrontier` instead of storing it apart.
 */
import { ConfigError } from '../errors.js';
import {
  foldParts,
  isHash,
  isTreeSize,
  type NodeAddress,
  nodeHash,
  rangeParts,
  readNodes,
  type TreeReader,
} from './merkle.js';

export interface Frontier {
  /** The number of leaves. */
  readonly size: number;
  /** The perfect subtree roots covering [0, size), largest (leftmost) first. */
  readonly nodes: readonly Uint8Array[];
}

/** A perfect subtree completed by an append: store `hash` under (level, index). */
export interface CompletedNode extends NodeAddress {
  readonly hash: Uint8Array;
}

export interface AppendResult {
  readonly frontier: Frontier;
  /** The root hash of the tree after the append (what the next checkpoint signs). */
  readonly root: Uint8Array;
  /** Every node the append completed, leaves (level 0) included, in the order made. */
  readonly completed: readonly CompletedNode[];
}

/** The frontier of the empty log. */
export const EMPTY_FRONTIER: Frontier = Object.freeze({ size: 0, nodes: Object.freeze([]) });

/** Where the nodes of the frontier of a `size`-leaf tree sit, in frontier order. */
export function frontierAddresses(size: number): NodeAddress[] {
  return rangeParts(0, size);
}

/** Rebuilds the frontier of the first `size` leaves from a log's stored subtrees. */
export async function loadFrontier(reader: TreeReader, size: number): Promise<Frontier> {
  return { size, nodes: await readNodes(reader, frontierAddresses(size)) };
}

/** The root hash of the tree the frontier describes, MTH(D[0:size]). */
export async function frontierRoot(frontier: Frontier): Promise<Uint8Array> {
  checkFrontier(frontier);
  return foldParts(frontier.nodes);
}

/**
 * Appends leaf hashes (see `leafHash`) to the log the frontier describes. Pure: the given
 * frontier is not changed. The root is computed once, after the last leaf.
 * @throws ConfigError for a frontier whose nodes do not match its size, or a non-hash leaf
 * @example
 * const { frontier, root, completed } = await appendLeaves(stored, [await leafHash(entry)]);
 */
export async function appendLeaves(
  frontier: Frontier,
  leafHashes: readonly Uint8Array[],
): Promise<AppendResult> {
  checkFrontier(frontier);
  if (!Number.isSafeInteger(frontier.size + leafHashes.length)) {
    throw new ConfigError('the log cannot grow beyond 2^53 - 1 leaves');
  }
  const nodes = [...frontier.nodes];
  const completed: CompletedNode[] = [];
  let size = frontier.size;
  for (const leaf of leafHashes) {
    if (!isHash(leaf)) throw new ConfigError('a leaf hash is 32 bytes (see leafHash)');
    let hash = leaf;
    let level = 0;
    let index = size;
    completed.push({ level, index, hash });
    // A leaf at an odd index completes its parent with the smallest frontier node, and so on
    // up, for as many levels as the index has trailing one bits.
    while (index % 2 === 1) {
      hash = await nodeHash(nodes.pop()!, hash);
      level += 1;
      index = (index - 1) / 2;
      completed.push({ level, index, hash });
    }
    nodes.push(hash);
    size += 1;
  }
  const next: Frontier = { size, nodes };
  return { frontier: next, root: await foldParts(nodes), completed };
}

/** Appends one leaf hash; see `appendLeaves`. */
export function appendLeaf(frontier: Frontier, leafHash: Uint8Array): Promise<AppendResult> {
  return appendLeaves(frontier, [leafHash]);
}

/** Number of set bits of a safe integer (the number of perfect subtrees of that size). */
function popCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/** A frontier read back from storage must still describe a tree: one node per set bit. */
function checkFrontier(frontier: Frontier): void {
  if (
    typeof frontier !== 'object' ||
    frontier === null ||
    !isTreeSize(frontier.size) ||
    !Array.isArray(frontier.nodes) ||
    frontier.nodes.length !== popCount(frontier.size) ||
    !frontier.nodes.every(isHash)
  ) {
    throw new ConfigError('the frontier does not hold one 32-byte hash per set bit of its size');
  }
}
