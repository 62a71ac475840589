/**
 * Two real processes sharing one file state consume the same quota at the same time;
 * together they must be granted exactly the limit (DESIGN.md: "consume is atomic against
 * the state"). Each child is a plain Node script running the built package.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestKey, PRODUCT, T0 } from '../../../../test/support/tokens.js';
import { issueLicense } from '../testing/harness.js';
import { ensureBuilt, type Fixture, killFixture, startFixture } from '../testing/processes.js';
import { stateInFile } from './journal/replay.js';

let directory: string;
beforeAll(async () => {
  ensureBuilt();
  directory = await mkdtemp(join(tmpdir(), 'licensekit-shared-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('two processes sharing one file state', () => {
  it.each([
    ['cwt', undefined],
    ['jwt', undefined],
    // Snapshots every few records: each process keeps finding the file replaced by the
    // other's compaction, between the records it reads incrementally.
    ['cwt', 1024],
  ] as const)(
    'are granted exactly the limit between them (%s, compactMinBytes %s)',
    async (format, compactMinBytes) => {
      const LIMIT = 120;
      const issuer = generateTestKey();
      const { token, claims } = issueLicense(issuer, format, {
        quota: { exports: { limit: LIMIT, per: 'month' } },
      });
      const path = join(directory, `shared-${format}-${compactMinBytes ?? 'default'}.json`);
      const config = JSON.stringify({
        path,
        token,
        issuer: issuer.jwk,
        product: PRODUCT,
        now: T0 + 60,
        quota: 'exports',
        compactMinBytes,
      });

      const children: Fixture[] = [
        startFixture('consumer.mjs', [config]),
        startFixture('consumer.mjs', [config]),
      ];
      try {
        await Promise.all(children.map((child) => child.line((l) => l === 'ready')));
        // Both start together.
        for (const child of children) child.child.stdin!.write('go\n');
        const outcomes = await Promise.all(
          children.map(
            async (child) =>
              JSON.parse(await child.line((l) => l.startsWith('{'), 30_000)) as {
                granted: number;
                reason: string;
                remaining: number;
              },
          ),
        );
        for (const outcome of outcomes)
          expect(outcome).toMatchObject({ reason: 'exhausted', remaining: 0 });
        expect(outcomes[0]!.granted + outcomes[1]!.granted).toBe(LIMIT);
        const exits = await Promise.all(children.map((child) => child.exited));
        expect(exits.map((e) => e.code)).toEqual([0, 0]);
      } finally {
        await Promise.all(children.map((child) => killFixture(child)));
      }
      const state = stateInFile(await readFile(path), PRODUCT);
      expect(state?.usage[claims.sub]?.exports?.used).toBe(LIMIT);
    },
    40_000,
  );
});
