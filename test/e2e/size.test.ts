/**
 * The size budget of the browser build, enforced by `vitest run` (and so by CI): min+gzip of
 * each entry plus the chunks it imports statically. scripts/size.mjs does the measuring;
 * its table is in the failure message.
 */
import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { repoRoot } from '../support/vectors.js';

interface SizeReport {
  ok: boolean;
  entries: {
    entry: string;
    gzip: number;
    budget: number;
    withinBudget: boolean;
    lazy: { chunk: string; gzip: number }[];
  }[];
}

function run(...args: string[]) {
  return spawnSync(process.execPath, ['scripts/size.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
}

test('each browser entry, with its static chunks, is within its min+gzip budget', () => {
  const json = run('--json');
  const report = JSON.parse(json.stdout) as SizeReport;
  const table = run('--verbose').stdout;

  expect(report.entries.map((entry) => [entry.entry, entry.budget])).toEqual([
    ['licensekit-verifier.js', 18 * 1024],
    ['licensekit-verifier-compact.js', 10 * 1024],
  ]);
  // The Ed25519 fallback is never part of what a page loads first.
  for (const entry of report.entries) {
    expect(entry.lazy.map((lazy) => lazy.chunk)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^noble-/)]),
    );
  }
  const over = report.entries.filter((entry) => !entry.withinBudget);
  expect(
    over.map((entry) => `${entry.entry}: ${entry.gzip} B > ${entry.budget} B`),
    `\n${table}`,
  ).toEqual([]);
  expect(json.status).toBe(0);
});
