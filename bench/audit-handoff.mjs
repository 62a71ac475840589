/**
 * What handing an audit's facts from a worker thread to the main thread costs per entry (a
 * probe for issue 7, not part of `pnpm bench`). The audit's own per-entry work (the CLI's
 * `Examiner`, packages/cli/src/audit/examine.ts, bundled here with esbuild as the CLI's
 * build does) runs over the first lines of an export's entries.jsonl in this thread; then,
 * in rounds, the facts are serialized and deserialized as `postMessage` does
 * (`v8.serialize` / `v8.deserialize`, the structured clone), and, for comparison, sent as
 * one JSON string (their leaves aside, as the pool sends those in one buffer). Prints
 * microseconds per entry, medians of the rounds, beside the examine time per entry (mostly
 * one Ed25519 verify).
 *
 * Usage: node bench/audit-handoff.mjs <cache dir> [lines]
 * where <cache dir> is one the `audit` bench group made and keeps, e.g.
 * `BENCH_AUDIT_TOKENS=100000 node bench/run.mjs audit` → $TMPDIR/licensekit-bench-audit-g1-100000.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { build } from 'esbuild';

const [cacheDir, lineCount = '20000'] = process.argv.slice(2);
if (!cacheDir) {
  console.error('usage: node bench/audit-handoff.mjs <cache dir> [lines]');
  process.exit(2);
}
const ROUNDS = 5;
const ready = JSON.parse(readFileSync(join(cacheDir, 'ready.json'), 'utf8'));
const root = JSON.parse(readFileSync(ready.rootFile, 'utf8'));

const scratch = mkdtempSync(join(tmpdir(), 'licensekit-audit-handoff-'));
try {
  const outfile = join(scratch, 'examine.mjs');
  await build({
    entryPoints: [new URL('../packages/cli/src/audit/examine.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    outfile,
    logLevel: 'warning',
  });
  const { Examiner } = await import(pathToFileURL(outfile).href);

  const lines = readFileSync(join(ready.dir, 'entries.jsonl'), 'utf8')
    .split('\n', Number(lineCount))
    .filter((line) => line.length > 0);
  const examiner = await Examiner.create([{ kid: root.kid, x: root.x }]);
  const facts = [];
  let started = performance.now();
  for (let at = 0; at < lines.length; at++) {
    const examined = examiner.examine(lines[at], at + 1);
    facts.push(examined instanceof Promise ? await examined : examined);
  }
  const examineUs = ((performance.now() - started) * 1000) / lines.length;
  const valid = facts.filter((fact) => fact.signature === 'valid').length;
  if (valid !== facts.length) throw new Error(`${facts.length - valid} entries did not verify`);

  const withoutLeaves = facts.map(({ leaf: _leaf, ...rest }) => rest);
  const perEntry = (ms) => (ms * 1000) / facts.length;
  const times = { serialize: [], deserialize: [], stringify: [], move: [], parse: [] };
  let cloneBytes = 0;
  let jsonChars = 0;
  for (let round = 0; round < ROUNDS; round++) {
    started = performance.now();
    const cloned = serialize(facts);
    times.serialize.push(perEntry(performance.now() - started));
    started = performance.now();
    deserialize(cloned);
    times.deserialize.push(perEntry(performance.now() - started));
    cloneBytes = cloned.length;

    started = performance.now();
    const json = JSON.stringify(withoutLeaves);
    times.stringify.push(perEntry(performance.now() - started));
    started = performance.now();
    const moved = deserialize(serialize(json));
    times.move.push(perEntry(performance.now() - started));
    started = performance.now();
    JSON.parse(moved);
    times.parse.push(perEntry(performance.now() - started));
    jsonChars = json.length;
  }
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const us = (key) => median(times[key]).toFixed(2);
  console.log(
    `${facts.length} entries of ${ready.dir}; examine (decode, hash, verify): ${examineUs.toFixed(1)} µs an entry`,
  );
  console.log(
    `structured clone: ${(cloneBytes / facts.length).toFixed(0)} bytes an entry, serialize ${us('serialize')} µs, deserialize ${us('deserialize')} µs`,
  );
  console.log(
    `one JSON string: ${(jsonChars / facts.length).toFixed(0)} characters an entry, stringify ${us('stringify')} µs, move ${us('move')} µs, parse ${us('parse')} µs`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
