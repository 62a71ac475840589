/**
 * The size budget of the browser build, enforced by `vitest run` (and so by CI): min+gzip of
 * each entry plus the chunks it imports statically. scripts/size.mjs does the measuring;
 * its table is in the failure message. Beside it, the one-file bundles an app's own build
 * makes of the package entries (issue 9): measured and reported against their goals, and
 * never carrying the noble fallback or the log-proof checker unless the app opts in.
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
  oneFile: {
    entry: string;
    minified: number;
    gzip: number;
    goal: number;
    contributors: { input: string; minified: number }[];
  }[];
}

function run(...args: string[]) {
  return spawnSync(process.execPath, ['scripts/size.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
}

const json = run('--json');
const report = JSON.parse(json.stdout) as SizeReport;

test('each browser entry, with its static chunks, is within its min+gzip budget', () => {
  const table = run('--verbose').stdout;

  expect(report.entries.map((entry) => [entry.entry, entry.budget])).toEqual([
    ['licensekit-verifier.js', 18 * 1024],
    ['licensekit-verifier-compact.js', 11 * 1024],
  ]);
  // The Ed25519 fallback is never part of what a page loads first.
  for (const entry of report.entries) {
    expect(entry.lazy.map((lazy) => lazy.chunk)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^noble-/)]),
    );
  }
  // The prebuilt full entry switches the log-proof checker on, as a chunk of its own.
  expect(report.entries[0]?.lazy.map((lazy) => lazy.chunk)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^log-proofs-/)]),
  );
  const over = report.entries.filter((entry) => !entry.withinBudget);
  expect(
    over.map((entry) => `${entry.entry}: ${entry.gzip} B > ${entry.budget} B`),
    `\n${table}`,
  ).toEqual([]);
  expect(json.status).toBe(0);
});

test('the one-file bundles of the package entries are measured, in bytes, without noble', () => {
  expect(report.oneFile.map((bundle) => [bundle.entry, bundle.goal])).toEqual([
    ['licensekit-verifier.js', 18_000],
    ['licensekit-verifier-compact.js', 10_000],
  ]);
  for (const bundle of report.oneFile) {
    expect(bundle.gzip).toBeGreaterThan(0);
    expect(bundle.gzip).toBeLessThan(bundle.minified);
    // No splitting: every dynamic import is inlined, so this is the whole of it, and the
    // opt-in fallback (@licensekit/verifier/noble) is not in it.
    const inputs = bundle.contributors.map((contributor) => contributor.input);
    expect(inputs.filter((input) => input.startsWith('@noble/'))).toEqual([]);
    // Nor the issuance-log proof checker (@licensekit/verifier/log-proofs, enableLogProofs).
    expect(
      inputs.filter((input) => /core\/src\/log\/|verifier\/src\/log-proofs\.ts$/.test(input)),
    ).toEqual([]);
    expect(inputs).toEqual(expect.arrayContaining([expect.stringMatching(/codec\/cose\.ts$/)]));
  }
});
