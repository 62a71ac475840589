/**
 * Inclusion proofs (audit paths), RFC 9162 §2.1.3: the sibling hashes from a leaf up to the
 * root, which show that one entry is in the tree a checkpoint signed.
 */
import { ConfigError } from '../errors.js';
import {
  isHash,
  isTreeSize,
  largestPowerOfTwoBelow,
  nodeHash,
  rangeHashes,
  sameHash,
  type TreeReader,
} from './merkle.js';

/**
 * The leaf ranges whose hashes make up PATH(index, D[0:size]) (§2.1.3.1), leaf first. The
 * recursion of the RFC, unrolled: at each split the sibling of the half holding the leaf
 * joins the path.
 */
export function inclusionRanges(index: number, size: number): [start: number, end: number][] {
  if (!isTreeSize(size) || !isTreeSize(index) || index >= size) {
    throw new ConfigError(`leaf ${index} is not in a tree of ${size} leaves`);
  }
  const siblings: [number, number][] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const split = start + largestPowerOfTwoBelow(end - start);
    if (index < split) {
      siblings.push([split, end]);
      end = split;
    } else {
      siblings.push([start, split]);
      start = split;
    }
  }
  return siblings.reverse();
}

/**
 * The inclusion proof of leaf `index` in the tree of the first `size` leaves, read from a
 * log's stored subtrees: at most 2·⌈log2 size⌉ node reads, in one batch.
 * @throws ConfigError when index ≥ size, or from the reader
 * @example
 * const proof = await inclusionProof(tree, 5, checkpoint.size);
 */
export async function inclusionProof(
  reader: TreeReader,
  index: number,
  size: number,
): Promise<Uint8Array[]> {
  return rangeHashes(reader, inclusionRanges(index, size));
}

/**
 * The root that an inclusion proof leads to (§2.1.3.2), or null when the proof cannot be
 * one for (index, size): index out of range, a wrong number of hashes, a hash that is not
 * 32 bytes.
 */
export async function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Promise<Uint8Array | null> {
  if (!isTreeSize(size) || !isTreeSize(index) || index >= size) return null;
  if (!isHash(leaf) || !proof.every(isHash)) return null;
  // fn walks up from the leaf, sn from the last leaf; where they meet the right edge of the
  // tree, levels without a right sibling are skipped (the shifts in the inner loop).
  let fn = index;
  let sn = size - 1;
  let root = leaf;
  for (const sibling of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      root = await nodeHash(sibling, root);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      root = await nodeHash(root, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? root : null;
}

/**
 * True when `proof` shows that `leaf` (a leaf hash) is leaf `index` of the tree of `size`
 * leaves whose root is `root`. Never throws: false for anything malformed.
 *
 * The root commits to the leaves, not to the size: a proof may also verify under another
 * size whose audit path has the same shape. Take the size from a signed checkpoint, as
 * `verifyLoggedEntry` does, never from the party that sent the proof.
 */
export async function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  const computed = await rootFromInclusionProof(leaf, index, size, proof);
  return computed !== null && isHash(root) && sameHash(computed, root);
}
