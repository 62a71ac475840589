/**
 * Consistency proofs, RFC 9162 §2.1.4: the hashes that show a tree of `newSize` leaves
 * begins with the tree of `oldSize` leaves, i.e. the log only appended. An auditor or a
 * verifier that kept an older checkpoint checks each newer one this way, so a log that
 * rewrote or forked its history is caught.
 */
import { ConfigError } from '../errors.js';
import {
  isHash,
  isPowerOfTwo,
  isTreeSize,
  largestPowerOfTwoBelow,
  nodeHash,
  rangeHashes,
  sameHash,
  type TreeReader,
} from './merkle.js';

/**
 * The leaf ranges whose hashes make up PROOF(oldSize, D[0:newSize]) (§2.1.4.1), in proof
 * order. Empty when oldSize is 0 or equal to newSize: nothing needs proving.
 */
export function consistencyRanges(
  oldSize: number,
  newSize: number,
): [start: number, end: number][] {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || oldSize > newSize) {
    throw new ConfigError(`a tree of ${oldSize} leaves cannot precede one of ${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[start:end], complete), unrolled; `complete` says whether the current
  // subtree's root is the old root itself, which the verifier already has.
  const nodes: [number, number][] = [];
  let start = 0;
  let end = newSize;
  let m = oldSize;
  let complete = true;
  while (m !== end - start) {
    const split = largestPowerOfTwoBelow(end - start);
    if (m <= split) {
      nodes.push([start + split, end]);
      end = start + split;
    } else {
      nodes.push([start, start + split]);
      start += split;
      m -= split;
      complete = false;
    }
  }
  if (!complete) nodes.push([start, end]);
  return nodes.reverse();
}

/**
 * The consistency proof from the tree of `oldSize` leaves to the tree of `newSize` leaves,
 * read from a log's stored subtrees in one batch (O(log n) nodes).
 * @throws ConfigError when oldSize > newSize, or from the reader
 * @example
 * const proof = await consistencyProof(tree, previous.size, checkpoint.size);
 */
export async function consistencyProof(
  reader: TreeReader,
  oldSize: number,
  newSize: number,
): Promise<Uint8Array[]> {
  return rangeHashes(reader, consistencyRanges(oldSize, newSize));
}

/**
 * True when `proof` shows that the tree (`oldSize`, `oldRoot`) is a prefix of the tree
 * (`newSize`, `newRoot`), by the algorithm of §2.1.4.2. Never throws: false for anything
 * malformed. Equal sizes need equal roots and an empty proof; every tree extends the empty
 * tree (size 0), whatever root was claimed for it. As for inclusion, the roots do not commit
 * to the sizes (a proof from 1 to 3 leaves also passes as one from 1 to 4): take both sizes
 * from signed checkpoints, as `verifyCheckpointConsistency` does.
 */
export async function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<boolean> {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
  if (oldSize === newSize) return proof.length === 0 && sameHash(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;

  // A perfect old tree is a node of the new one, so the proof leaves it out (§2.1.4.1) and
  // the verifier starts from the old root itself.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let oldHash = path[0]!;
  let newHash = path[0]!;
  for (const node of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      oldHash = await nodeHash(node, oldHash);
      newHash = await nodeHash(node, newHash);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      newHash = await nodeHash(newHash, node);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(oldHash, oldRoot) && sameHash(newHash, newRoot);
}
