import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors.js';
import { consistencyProof, consistencyRanges, verifyConsistency } from './consistency.js';
import {
  appendLeaf,
  appendLeaves,
  EMPTY_FRONTIER,
  type Frontier,
  frontierAddresses,
  frontierRoot,
  loadFrontier,
} from './frontier.js';
import { inclusionProof, rootFromInclusionProof, verifyInclusion } from './inclusion.js';
import { MemoryTree } from './memory-tree.js';
import {
  emptyTreeHash,
  leafHash,
  type NodeAddress,
  nodeHash,
  rangeHashes,
  type TreeReader,
  treeHash,
} from './merkle.js';

// ---------------------------------------------------------------------------------------
// The reference: RFC 9162 §2.1 written out as its recursive definitions, over node:crypto,
// sharing no code with the implementation under test.
// ---------------------------------------------------------------------------------------

const sha = (...parts: Uint8Array[]): Uint8Array =>
  new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());
const refLeaf = (entry: Uint8Array): Uint8Array => sha(Uint8Array.of(0), entry);
const refNode = (left: Uint8Array, right: Uint8Array): Uint8Array =>
  sha(Uint8Array.of(1), left, right);
/** k: the largest power of two smaller than n (n ≥ 2). */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** MTH(D[n]) over leaf hashes. */
function mth(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return refNode(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

interface PathStep {
  hash: Uint8Array;
  /** Whether the sibling sits left of the running hash. */
  left: boolean;
}

/** PATH(m, D[n]) (§2.1.3.1), with the side of each sibling. */
function path(m: number, leaves: readonly Uint8Array[]): PathStep[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...path(m, leaves.slice(0, k)), { hash: mth(leaves.slice(k)), left: false }]
    : [...path(m - k, leaves.slice(k)), { hash: mth(leaves.slice(0, k)), left: true }];
}

/** PROOF(m, D[n]) (§2.1.4.1). */
function proof(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  const sub = (m: number, d: readonly Uint8Array[], complete: boolean): Uint8Array[] => {
    if (m === d.length) return complete ? [] : [mth(d)];
    const k = split(d.length);
    return m <= k
      ? [...sub(m, d.slice(0, k), complete), mth(d.slice(k))]
      : [...sub(m - k, d.slice(k), false), mth(d.slice(0, k))];
  };
  return m === 0 ? [] : sub(m, leaves, true);
}

/** |PROOF(m, D[n])|, from the same recursion over sizes alone. */
function proofLength(m: number, n: number): number {
  const sub = (m: number, n: number, complete: boolean): number => {
    if (m === n) return complete ? 0 : 1;
    const k = split(n);
    return 1 + (m <= k ? sub(m, k, complete) : sub(m - k, n - k, false));
  };
  return m === 0 ? 0 : sub(m, n, true);
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const hexes = (list: readonly Uint8Array[]): string[] => list.map(hex);

/** A copy of `bytes` with one bit inverted. */
function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  const at = Math.floor(bit / 8) % out.length;
  out[at] = out[at]! ^ (1 << (bit % 8));
  return out;
}

/** Distinct leaves: their index and a salt, so no two subtrees hash alike by accident. */
const entryOf = (i: number): Uint8Array => {
  const entry = new Uint8Array(8);
  new DataView(entry.buffer).setUint32(0, i);
  entry.set([0x6c, 0x6b, 0x69, 0x74], 4);
  return entry;
};

/** One tree for every property: its prefixes are all the smaller trees. */
const N = 1100;
const referenceLeaves = Array.from({ length: N }, (_, i) => refLeaf(entryOf(i)));
const tree = new MemoryTree();
await tree.append(await Promise.all(referenceLeaves.map((_, i) => leafHash(entryOf(i)))));

// Reference roots, computed on demand: mth of a prefix costs n hashes.
const referenceRoots = new Map<number, Uint8Array>();
function referenceRoot(size: number): Uint8Array {
  let root = referenceRoots.get(size);
  if (root === undefined) {
    root = mth(referenceLeaves.slice(0, size));
    referenceRoots.set(size, root);
  }
  return root;
}

/** A reader that counts node reads and batch calls. */
function countingReader(inner: TreeReader, batch: boolean) {
  const counts = { nodes: 0, calls: 0 };
  const reader: TreeReader = {
    nodeHash(level, index) {
      counts.nodes += 1;
      counts.calls += 1;
      return inner.nodeHash(level, index);
    },
  };
  if (batch) {
    reader.nodeHashes = (addresses: readonly NodeAddress[]) => {
      counts.nodes += addresses.length;
      counts.calls += 1;
      return Promise.all(addresses.map(({ level, index }) => inner.nodeHash(level, index)));
    };
  }
  return { reader, counts };
}

const ceilLog2 = (n: number): number => Math.ceil(Math.log2(n));

// ---------------------------------------------------------------------------------------
// Known answers
// ---------------------------------------------------------------------------------------

interface Rfc6962Vectors {
  leaves: string[];
  roots: string[];
  inclusion: { index: number; size: number; proof: string[] }[];
  consistency: { oldSize: number; newSize: number; proof: string[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('./testdata/rfc6962.json', import.meta.url), 'utf8'),
) as Rfc6962Vectors;

const reference = new MemoryTree();
await reference.append(await Promise.all(vectors.leaves.map((e) => leafHash(fromHex(e)))));

describe('known answers', () => {
  test('the empty tree hash is SHA-256 of the empty string', async () => {
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(hex(await emptyTreeHash())).toBe(empty);
    expect(hex(await frontierRoot(EMPTY_FRONTIER))).toBe(empty);
    expect(hex(await treeHash(new MemoryTree(), 0))).toBe(empty);
  });

  test('leaf and node hashes use the 0x00 and 0x01 prefixes', async () => {
    const entry = Uint8Array.of(1, 2, 3);
    expect(hex(await leafHash(entry))).toBe(hex(refLeaf(entry)));
    const [a, b] = [sha(Uint8Array.of(1)), sha(Uint8Array.of(2))];
    expect(hex(await nodeHash(a, b))).toBe(hex(refNode(a, b)));
  });

  test('the RFC 6962 reference tree: the root at every size 0 to 8', async () => {
    let frontier: Frontier = EMPTY_FRONTIER;
    expect(hex(await frontierRoot(frontier))).toBe(vectors.roots[0]);
    for (const [i, entry] of vectors.leaves.entries()) {
      const result = await appendLeaf(frontier, await leafHash(fromHex(entry)));
      frontier = result.frontier;
      expect(hex(result.root), `size ${i + 1}`).toBe(vectors.roots[i + 1]);
    }
  });

  describe('the RFC 6962 reference proofs', () => {
    test.each(vectors.inclusion)('inclusion of leaf $index in $size', async (vector) => {
      const generated = await inclusionProof(reference, vector.index, vector.size);
      expect(hexes(generated)).toEqual(vector.proof);
      const leaf = await leafHash(fromHex(vectors.leaves[vector.index]!));
      const root = fromHex(vectors.roots[vector.size]!);
      expect(await verifyInclusion(leaf, vector.index, vector.size, generated, root)).toBe(true);
    });

    test.each(vectors.consistency)('consistency of $oldSize and $newSize', async (vector) => {
      const generated = await consistencyProof(reference, vector.oldSize, vector.newSize);
      expect(hexes(generated)).toEqual(vector.proof);
      const oldRoot = fromHex(vectors.roots[vector.oldSize]!);
      const newRoot = fromHex(vectors.roots[vector.newSize]!);
      expect(
        await verifyConsistency(vector.oldSize, vector.newSize, oldRoot, newRoot, generated),
      ).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------
// The frontier against the recursive definition
// ---------------------------------------------------------------------------------------

describe('the frontier', () => {
  test('appending leaf by leaf gives MTH at every size n = 0..300', async () => {
    let frontier: Frontier = EMPTY_FRONTIER;
    for (let n = 0; n <= 300; n++) {
      expect(hex(await frontierRoot(frontier)), `size ${n}`).toBe(hex(referenceRoot(n)));
      frontier = (await appendLeaf(frontier, referenceLeaves[n]!)).frontier;
    }
  });

  test('appends return every perfect subtree exactly once, with its MTH', async () => {
    let frontier: Frontier = EMPTY_FRONTIER;
    const seen = new Set<string>();
    for (let n = 1; n <= 130; n++) {
      const result = await appendLeaf(frontier, referenceLeaves[n - 1]!);
      frontier = result.frontier;
      for (const { level, index, hash } of result.completed) {
        const key = `${level}:${index}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
        const width = 2 ** level;
        expect((index + 1) * width).toBeLessThanOrEqual(n);
        expect(hex(hash), key).toBe(
          hex(mth(referenceLeaves.slice(index * width, (index + 1) * width))),
        );
      }
      // A tree of n leaves has 2n − popcount(n) perfect subtrees.
      const popCount = n.toString(2).replace(/0/g, '').length;
      expect(seen.size).toBe(2 * n - popCount);
    }
  });

  test('a batch append equals one append per leaf', async () => {
    const one = await appendLeaves(EMPTY_FRONTIER, referenceLeaves.slice(0, 77));
    const more = await appendLeaves(one.frontier, referenceLeaves.slice(77, 200));
    expect(more.frontier.size).toBe(200);
    expect(hex(more.root)).toBe(hex(referenceRoot(200)));
    expect(one.completed.filter((node) => node.level === 0)).toHaveLength(77);
  });

  test('loadFrontier rebuilds the frontier from stored nodes', async () => {
    let frontier: Frontier = EMPTY_FRONTIER;
    for (let n = 0; n <= 70; n++) {
      const loaded = await loadFrontier(tree, n);
      expect(loaded.size).toBe(n);
      expect(hexes(loaded.nodes)).toEqual(hexes(frontier.nodes));
      expect(frontierAddresses(n)).toHaveLength(frontier.nodes.length);
      frontier = (await appendLeaf(frontier, referenceLeaves[n]!)).frontier;
    }
  });

  test('a frontier that does not match its size, or a leaf that is not a hash, is refused', async () => {
    const leaf = referenceLeaves[0]!;
    const bad: Frontier[] = [
      { size: 1, nodes: [] },
      { size: 2, nodes: [leaf, leaf] },
      { size: -1, nodes: [] },
      { size: 1.5, nodes: [leaf] },
      { size: 1, nodes: [leaf.subarray(1)] },
    ];
    for (const frontier of bad) {
      await expect(appendLeaf(frontier, leaf)).rejects.toBeInstanceOf(ConfigError);
      await expect(frontierRoot(frontier)).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(appendLeaf(EMPTY_FRONTIER, new Uint8Array(31))).rejects.toBeInstanceOf(
      ConfigError,
    );
    const huge = { size: Number.MAX_SAFE_INTEGER, nodes: Array(53).fill(leaf) };
    await expect(appendLeaf(huge, leaf)).rejects.toBeInstanceOf(ConfigError);
  });

  test('appending does not change the frontier it was given', async () => {
    const before = await appendLeaves(EMPTY_FRONTIER, referenceLeaves.slice(0, 3));
    const snapshot = hexes(before.frontier.nodes);
    await appendLeaf(before.frontier, referenceLeaves[3]!);
    expect(hexes(before.frontier.nodes)).toEqual(snapshot);
    expect(before.frontier.size).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------
// Proof generation from stored subtrees, against the reference
// ---------------------------------------------------------------------------------------

describe('proofs from stored subtrees', () => {
  test('every inclusion proof of every tree up to 64 leaves is PATH(m, D[n])', async () => {
    for (let n = 1; n <= 64; n++) {
      const leaves = referenceLeaves.slice(0, n);
      for (let i = 0; i < n; i++) {
        const expected = path(i, leaves).map((step) => hex(step.hash));
        expect(hexes(await inclusionProof(tree, i, n)), `${i} in ${n}`).toEqual(expected);
      }
    }
  });

  test('every consistency proof between trees up to 64 leaves is PROOF(m, D[n])', async () => {
    for (let n = 0; n <= 64; n++) {
      const leaves = referenceLeaves.slice(0, n);
      for (let m = 0; m <= n; m++) {
        const expected = hexes(proof(m, leaves));
        expect(hexes(await consistencyProof(tree, m, n)), `${m} to ${n}`).toEqual(expected);
      }
    }
  });

  test('treeHash reads any earlier root from stored nodes', async () => {
    for (const n of [0, 1, 2, 3, 63, 64, 65, 1000, N]) {
      expect(hex(await treeHash(tree, n)), `size ${n}`).toBe(hex(referenceRoot(n)));
    }
  });

  test('a proof costs O(log n) node reads, and one call with a batch reader', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        async ([n, i]) => {
          const single = countingReader(tree, false);
          await inclusionProof(single.reader, i, n);
          expect(single.counts.nodes).toBeLessThanOrEqual(2 * ceilLog2(n));

          const batched = countingReader(tree, true);
          await consistencyProof(batched.reader, i + 1, n);
          expect(batched.counts.nodes).toBeLessThanOrEqual(2 * ceilLog2(n));
          expect(batched.counts.calls).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('misuse is a ConfigError: leaves outside the tree, unaligned ranges, bad readers', async () => {
    await expect(inclusionProof(tree, 5, 5)).rejects.toBeInstanceOf(ConfigError);
    await expect(inclusionProof(tree, -1, 5)).rejects.toBeInstanceOf(ConfigError);
    await expect(consistencyProof(tree, 6, 5)).rejects.toBeInstanceOf(ConfigError);
    await expect(rangeHashes(tree, [[1, 3]])).rejects.toBeInstanceOf(ConfigError);
    await expect(inclusionProof(new MemoryTree(), 0, 2)).rejects.toBeInstanceOf(ConfigError);
    const shortHashes: TreeReader = { nodeHash: async () => new Uint8Array(31) };
    await expect(inclusionProof(shortHashes, 0, 2)).rejects.toBeInstanceOf(ConfigError);
    const missing: TreeReader = { nodeHash: async () => sha(), nodeHashes: async () => [] };
    await expect(inclusionProof(missing, 0, 2)).rejects.toBeInstanceOf(ConfigError);
    expect(consistencyRanges(0, 5)).toEqual([]);
    expect(consistencyRanges(5, 5)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Properties of verification
// ---------------------------------------------------------------------------------------

const leafInTree = fc
  .integer({ min: 1, max: N })
  .chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1)))
  .map(([n, i]) => ({ n, i }));

const shapeOf = (i: number, n: number): string =>
  path(i, referenceLeaves.slice(0, n))
    .map((step) => (step.left ? 'L' : 'R'))
    .join('');

describe('inclusion proofs', () => {
  test('verify, and fail for any flipped bit, wrong leaf, wrong index or wrong size', async () => {
    await fc.assert(
      fc.asyncProperty(
        leafInTree,
        fc.nat(),
        fc.integer({ min: 1, max: N }),
        fc.nat(),
        async ({ n, i }, bit, otherSize, otherIndex) => {
          const leaf = referenceLeaves[i]!;
          const root = referenceRoot(n);
          const audit = await inclusionProof(tree, i, n);
          expect(await verifyInclusion(leaf, i, n, audit, root)).toBe(true);
          expect(hex((await rootFromInclusionProof(leaf, i, n, audit))!)).toBe(hex(root));

          if (audit.length > 0) {
            const at = bit % audit.length;
            const tampered = audit.map((h, j) => (j === at ? flip(h, bit) : h));
            expect(await verifyInclusion(leaf, i, n, tampered, root)).toBe(false);
            expect(await verifyInclusion(leaf, i, n, audit.slice(1), root)).toBe(false);
          }
          expect(await verifyInclusion(leaf, i, n, [...audit, root], root)).toBe(false);
          expect(await verifyInclusion(flip(leaf, bit), i, n, audit, root)).toBe(false);
          expect(await verifyInclusion(leaf, i, n, audit, flip(root, bit))).toBe(false);

          const wrongIndex = otherIndex % n;
          if (wrongIndex !== i) {
            expect(await verifyInclusion(leaf, wrongIndex, n, audit, root)).toBe(false);
          }
          expect(await verifyInclusion(leaf, i + n, n, audit, root)).toBe(false);

          // The root commits to the leaves, not to the size: under another size the same
          // hashes verify exactly when that size's audit path has the same shape. That is
          // why verifiers take the size from the signed checkpoint.
          if (otherSize !== n && i < otherSize) {
            const sameShape = shapeOf(i, otherSize) === shapeOf(i, n);
            expect(await verifyInclusion(leaf, i, otherSize, audit, root)).toBe(sameShape);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('never throws for junk: sizes, indexes and hashes of any kind give false', async () => {
    const leaf = referenceLeaves[0]!;
    const root = referenceRoot(1);
    expect(await verifyInclusion(leaf, 0, 1, [], root)).toBe(true);
    for (const [index, size] of [
      [0, 0],
      [1, 1],
      [-1, 1],
      [0.5, 1],
      [0, Number.NaN],
      [0, 2 ** 53],
    ] as const) {
      expect(await verifyInclusion(leaf, index, size, [], root)).toBe(false);
    }
    expect(await verifyInclusion(leaf, 0, 2, [new Uint8Array(31)], root)).toBe(false);
    expect(await verifyInclusion(new Uint8Array(0), 0, 1, [], new Uint8Array(0))).toBe(false);
    expect(await verifyInclusion(leaf, 0, 1, [], new Uint8Array(33))).toBe(false);
  });
});

describe('consistency proofs', () => {
  const treePair = fc
    .integer({ min: 0, max: N })
    .chain((n) => fc.tuple(fc.nat(n), fc.constant(n)))
    .map(([m, n]) => ({ m, n }));

  test('verify for every m ≤ n, and fail when tampered', async () => {
    await fc.assert(
      fc.asyncProperty(treePair, fc.nat(), async ({ m, n }, bit) => {
        const oldRoot = referenceRoot(m);
        const newRoot = referenceRoot(n);
        const hashes = await consistencyProof(tree, m, n);
        expect(await verifyConsistency(m, n, oldRoot, newRoot, hashes)).toBe(true);
        if (m === 0 || m === n) {
          expect(hashes).toEqual([]);
          return;
        }
        const at = bit % hashes.length;
        const tampered = hashes.map((h, j) => (j === at ? flip(h, bit) : h));
        expect(await verifyConsistency(m, n, oldRoot, newRoot, tampered)).toBe(false);
        expect(await verifyConsistency(m, n, oldRoot, newRoot, hashes.slice(0, -1))).toBe(false);
        expect(await verifyConsistency(m, n, oldRoot, newRoot, [...hashes, newRoot])).toBe(false);
        expect(await verifyConsistency(m, n, oldRoot, newRoot, [oldRoot, ...hashes])).toBe(false);
        expect(await verifyConsistency(m, n, oldRoot, newRoot, [])).toBe(false);
        expect(await verifyConsistency(m, n, flip(oldRoot, bit), newRoot, hashes)).toBe(false);
        expect(await verifyConsistency(m, n, oldRoot, flip(newRoot, bit), hashes)).toBe(false);
        expect(await verifyConsistency(m, n, newRoot, oldRoot, hashes)).toBe(false);
        expect(await verifyConsistency(n, m, newRoot, oldRoot, hashes)).toBe(false);
        // The root of a different old tree is not consistent through this proof.
        expect(await verifyConsistency(m, n, referenceRoot(m - 1), newRoot, hashes)).toBe(false);
        // As with inclusion, the roots do not commit to the sizes: another pair of sizes
        // whose proof has the same length may verify the same hashes. A different length
        // never does.
        for (const [otherOld, otherNew] of [
          [m - 1, n],
          [m + 1, n],
          [m, n + 1],
          [m, n - 1],
          [m, 2 * n],
          [m, Math.floor(n / 2)],
        ] as const) {
          if (otherOld > otherNew || proofLength(otherOld, otherNew) === hashes.length) continue;
          const ok = await verifyConsistency(otherOld, otherNew, oldRoot, newRoot, hashes);
          expect(ok, `${otherOld} to ${otherNew}`).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a proof from 1 to 3 leaves also verifies as one from 1 to 4: sizes come signed', async () => {
    const hashes = await consistencyProof(tree, 1, 3);
    const [oldRoot, newRoot] = [referenceRoot(1), referenceRoot(3)];
    expect(await verifyConsistency(1, 3, oldRoot, newRoot, hashes)).toBe(true);
    expect(await verifyConsistency(1, 4, oldRoot, newRoot, hashes)).toBe(true);
    expect(await verifyConsistency(1, 4, oldRoot, referenceRoot(4), hashes)).toBe(false);
  });

  test('the edge cases of §2.1.4.2: equal sizes, the empty tree, time travel', async () => {
    const [a, b] = [referenceRoot(1), referenceRoot(2)];
    expect(await verifyConsistency(0, 0, a, a, [])).toBe(true);
    expect(await verifyConsistency(0, 5, a, b, [])).toBe(true);
    expect(await verifyConsistency(0, 5, a, b, [a])).toBe(false);
    expect(await verifyConsistency(3, 3, a, a, [])).toBe(true);
    expect(await verifyConsistency(3, 3, a, b, [])).toBe(false);
    expect(await verifyConsistency(3, 3, a, a, [a])).toBe(false);
    expect(await verifyConsistency(2, 1, a, b, [])).toBe(false);
    expect(await verifyConsistency(1, 2, a, b, [])).toBe(false);
    expect(await verifyConsistency(-1, 2, a, b, [a])).toBe(false);
    expect(await verifyConsistency(1, 2.5, a, b, [a])).toBe(false);
    expect(await verifyConsistency(1, 2, a, new Uint8Array(0), [a])).toBe(false);
    expect(await verifyConsistency(1, 2, a, b, [new Uint8Array(64)])).toBe(false);
  });
});
