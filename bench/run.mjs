#!/usr/bin/env node
/**
 * `pnpm bench [group ...]`: builds (package.json), then runs the benchmark groups in this
 * one process and prints their figures. A run of every group also rewrites the generated
 * part of BENCHMARKS.md. Groups: verify, issue, size, cold-start, state, store, scale, audit.
 *
 * The store hook: when bench/store.mjs exists it must export
 * `benchStore({ fixtures, timing, root })` returning `{ figures: Figure[], details?: string[] }`
 * (Figure: bench/lib/figure.mjs), which run.mjs runs as the group `store`. Until then the
 * report says the store is not benchmarked yet.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAudit } from './audit.mjs';
import { benchColdStart } from './cold-start.mjs';
import { benchIssue } from './issue.mjs';
import { createFixtures } from './lib/fixtures.mjs';
import { renderGenerated, resultsTable, writeReport } from './lib/report.mjs';
import { benchScale } from './scale.mjs';
import { benchSize } from './size.mjs';
import { benchState } from './state.mjs';
import { benchVerify } from './verify.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const storeModule = join(root, 'bench', 'store.mjs');
/** 31 alternating rounds of ~120 ms per side: about 8 s per two-sided figure. */
const timing = { rounds: 31, roundMs: 120, warmupMs: 400 };

const groups = {
  verify: async (fixtures) => ({ figures: await benchVerify(fixtures, timing) }),
  issue: async (fixtures) => ({ figures: await benchIssue(fixtures, timing) }),
  size: (fixtures) => benchSize(fixtures),
  'cold-start': async (fixtures) => ({ figures: await benchColdStart(fixtures) }),
  state: async (fixtures) => ({ figures: await benchState(fixtures, timing) }),
  store: async (fixtures) => {
    if (!existsSync(storeModule)) {
      return {
        figures: [],
        notes: [
          '### Store (issue 4)\n\nNot benchmarked yet: `bench/store.mjs` does not exist (see the hook in `bench/run.mjs`).',
        ],
      };
    }
    const { benchStore } = await import(storeModule);
    return benchStore({ fixtures, timing, root });
  },
  // Issue 8: `licensekit serve` processes under load (bench/scale.mjs).
  scale: () => benchScale(),
  // Issue 7: `licensekit audit store` on a generated export of 1,000,000 tokens (bench/audit.mjs).
  audit: () => benchAudit(),
};

function machineLine(seconds, loadAtStart, command) {
  const cpu = cpus();
  const load = (values) => values.map((value) => value.toFixed(1)).join(' ');
  return [
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`${command}\` in ${seconds.toFixed(0)} s`,
    `Node ${process.version} (OpenSSL ${process.versions.openssl}), ${process.platform}/${process.arch}`,
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `load average ${load(loadAtStart)} at the start, ${load(loadavg())} at the end`,
  ].join(' · ');
}

const selected = process.argv.slice(2);
const unknown = selected.filter((name) => !(name in groups));
if (unknown.length > 0) {
  console.error(
    `unknown bench group ${unknown.join(', ')}; groups: ${Object.keys(groups).join(', ')}`,
  );
  process.exit(2);
}
const names = selected.length > 0 ? selected : Object.keys(groups);

const started = process.hrtime.bigint();
const loadAtStart = loadavg();
const fixtures = await createFixtures();
const figures = [];
const details = [];
const notes = [];
for (const name of names) {
  const groupStarted = process.hrtime.bigint();
  const outcome = await groups[name](fixtures);
  figures.push(...outcome.figures);
  details.push(...(outcome.details === undefined ? [] : [outcome.details].flat()));
  notes.push(...(outcome.notes ?? []));
  const spent = Number(process.hrtime.bigint() - groupStarted) / 1e9;
  console.error(`bench: ${name} done in ${spent.toFixed(1)} s`);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const command = ['pnpm bench', ...selected].join(' ');
const machine = machineLine(seconds, loadAtStart, command);

console.log(resultsTable(figures));
console.log(`\n${machine}`);
if (selected.length === 0) {
  writeReport(join(root, 'BENCHMARKS.md'), renderGenerated({ figures, details, notes, machine }));
  console.log('\nwrote BENCHMARKS.md');
} else {
  console.log('\n(BENCHMARKS.md is rewritten by a run of every group: pnpm bench)');
}
