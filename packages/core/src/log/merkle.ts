/**
 * The Merkle tree of the issuance log: RFC 9162 (Certificate Transparency 2.0) §2.1, the
 * same tree as RFC 6962, so any CT or C2SP tlog tool can check licensekit's proofs.
 *
 * Leaves and interior nodes are hashed with different one-byte prefixes (§2.1.1), so no
 * interior node can be passed off as a leaf (a second-preimage attack on the tree shape).
 * A tree of n leaves splits at the largest power of two below n: its left part is always a
 * perfect subtree. Every node a proof needs is therefore either a perfect subtree, aligned
 * and of power-of-two size, or a right edge made of perfect subtrees, which is why a log
 * only has to store perfect subtrees (`TreeReader`) and never rehashes its leaves.
 */
import { sha256 } from '#ed25519-platform';
import { ConfigError } from '../errors.js';

/** SHA-256 output length: every leaf, node and root hash. */
export const HASH_LENGTH = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** RFC 9162 §2.1.1: the hash of a leaf, SHA-256(0x00 ‖ entry). */
export function leafHash(entry: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(1 + entry.length);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return sha256(input);
}

/** RFC 9162 §2.1.1: the hash of an interior node, SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** RFC 9162 §2.1.1: the hash of the empty tree, SHA-256 of the empty string. */
export function emptyTreeHash(): Promise<Uint8Array> {
  return sha256(new Uint8Array(0));
}

// ---------------------------------------------------------------------------------------
// Tree shape. Sizes and indexes are safe integers, so the arithmetic below uses division
// rather than 32-bit bitwise operators.
// ---------------------------------------------------------------------------------------

/** A tree size or leaf index: a non-negative safe integer. */
export function isTreeSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The split point k of RFC 9162 §2.1.1: the largest power of two smaller than n (n ≥ 2). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** True for 1, 2, 4, 8 … (exact for every safe integer, unlike Math.log2). */
export function isPowerOfTwo(n: number): boolean {
  let power = 1;
  while (power < n) power *= 2;
  return power === n;
}

/**
 * A perfect subtree: the 2^level leaves starting at index · 2^level. Level 0 is a leaf. A
 * log stores the hash of every perfect subtree it has completed, keyed by this address.
 */
export interface NodeAddress {
  readonly level: number;
  readonly index: number;
}

/**
 * Read access to a log's stored perfect subtrees. Proof generation asks for O(log n) of them
 * and never for anything else, so a store answers from one table keyed by (level, index).
 */
export interface TreeReader {
  /** The hash of the perfect subtree at (level, index); it lies within the tree. */
  nodeHash(level: number, index: number): Promise<Uint8Array>;
  /**
   * Optional batch form, answered in the order asked: lets a database serve a whole proof
   * in one round trip instead of one per node.
   */
  nodeHashes?(addresses: readonly NodeAddress[]): Promise<readonly Uint8Array[]>;
}

/**
 * The perfect subtrees whose fold is MTH(D[start:end]): one per set bit of the range size,
 * largest first. Every range a proof needs starts at a multiple of its largest part (the
 * split rule guarantees it), so each part is a stored node.
 * @throws ConfigError for a range that is not a subtree of any log tree
 */
export function rangeParts(start: number, end: number): NodeAddress[] {
  if (!isTreeSize(start) || !isTreeSize(end) || end < start) {
    throw new ConfigError(`[${start}, ${end}) is not a range of leaves`);
  }
  const parts: NodeAddress[] = [];
  let position = start;
  for (let level = Math.floor(Math.log2(end - start + 1)) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (position + width > end) continue;
    if (position % width !== 0) {
      throw new ConfigError(`[${start}, ${end}) is not aligned to its largest subtree`);
    }
    parts.push({ level, index: position / width });
    position += width;
  }
  return parts;
}

/** Reads stored nodes, in one batch when the reader can, and checks they are hashes. */
export async function readNodes(
  reader: TreeReader,
  addresses: readonly NodeAddress[],
): Promise<Uint8Array[]> {
  if (addresses.length === 0) return [];
  const hashes =
    reader.nodeHashes !== undefined
      ? await reader.nodeHashes(addresses)
      : await Promise.all(addresses.map(({ level, index }) => reader.nodeHash(level, index)));
  if (hashes.length !== addresses.length) {
    throw new ConfigError(`the tree reader returned ${hashes.length} of ${addresses.length} nodes`);
  }
  return hashes.map((hash, i) => {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH) {
      const { level, index } = addresses[i]!;
      throw new ConfigError(
        `the tree reader returned no ${HASH_LENGTH}-byte hash at (${level}, ${index})`,
      );
    }
    return hash;
  });
}

/**
 * MTH of a range from the hashes of its parts (`rangeParts`, largest first): the right fold
 * the split rule gives. No parts is the empty tree.
 */
export async function foldParts(parts: readonly Uint8Array[]): Promise<Uint8Array> {
  let hash = parts.at(-1);
  if (hash === undefined) return emptyTreeHash();
  for (let i = parts.length - 2; i >= 0; i--) hash = await nodeHash(parts[i]!, hash);
  return hash;
}

/**
 * MTH(D[start:end]) for each range, from stored perfect subtrees: every node is read once,
 * all in one batch, then only the O(log n) right-edge nodes are hashed.
 * @throws ConfigError for a range that is not a subtree of any log tree
 */
export async function rangeHashes(
  reader: TreeReader,
  ranges: readonly (readonly [start: number, end: number])[],
): Promise<Uint8Array[]> {
  const partsOf = ranges.map(([start, end]) => rangeParts(start, end));
  const hashes = await readNodes(reader, partsOf.flat());
  let offset = 0;
  return Promise.all(
    partsOf.map((parts) => {
      const own = hashes.slice(offset, offset + parts.length);
      offset += parts.length;
      return foldParts(own);
    }),
  );
}

/**
 * The root hash of the first `size` leaves, MTH(D[0:size]), from stored subtrees: how a
 * log answers "what was the root at size m" for a consistency proof or an old checkpoint.
 */
export async function treeHash(reader: TreeReader, size: number): Promise<Uint8Array> {
  const [root] = await rangeHashes(reader, [[0, size]]);
  return root!;
}

/** Byte equality of two hashes (hashes are public: no constant-time compare is needed). */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True for a 32-byte hash. */
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_LENGTH;
}
