import { appendLeaves, EMPTY_FRONTIER, frontierRoot } from '@licensekit/core/log';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AuditFrontier } from './tree.js';

const leaf = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** The audit's synchronous frontier must be core's, root for root, at every size. */
describe('AuditFrontier', () => {
  test("has core's frontier and root after any appends, from any start", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(leaf, { maxLength: 40 }),
        fc.array(leaf, { minLength: 1, maxLength: 70 }),
        async (before, after) => {
          const start = (await appendLeaves(EMPTY_FRONTIER, before)).frontier;
          const tree = new AuditFrontier(start);
          let expected = start;
          for (const next of after) {
            tree.append(next);
            expected = (await appendLeaves(expected, [next])).frontier;
            expect(tree.size).toBe(expected.size);
          }
          const frontier = tree.frontier;
          expect(frontier.nodes.map((node) => new Uint8Array(node))).toEqual(expected.nodes);
          expect(new Uint8Array(await frontierRoot(frontier))).toEqual(
            await frontierRoot(expected),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  test('refuses a leaf that is not a 32-byte hash, and leaves the tree as it was', () => {
    const tree = new AuditFrontier(EMPTY_FRONTIER);
    tree.append(new Uint8Array(32));
    expect(() => tree.append(new Uint8Array(31))).toThrow('a leaf hash is 32 bytes');
    expect(tree.size).toBe(1);
  });

  test('a frontier handed out does not change with later appends', () => {
    const tree = new AuditFrontier(EMPTY_FRONTIER);
    tree.append(new Uint8Array(32));
    const taken = tree.frontier;
    tree.append(new Uint8Array(32).fill(1));
    expect(taken.size).toBe(1);
    expect(taken.nodes).toHaveLength(1);
  });
});
