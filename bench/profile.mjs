#!/usr/bin/env node
/**
 * `node bench/profile.mjs <case> [out.cpuprofile]` (after `pnpm build`): profiles one
 * benchmarked operation in a loop for 3 s with the V8 CPU profiler, then prints where the
 * time went: the functions with the most samples, self and inclusive, as shares of all
 * samples. Positions are those of the built dist/ files; find the source by function name
 * (the CLI's bundles keep their names when built with LICENSEKIT_BUILD_UNMINIFIED=1).
 * With a second argument the profile is also written out, for Chrome DevTools.
 * `node bench/profile.mjs --summarize <file.cpuprofile>` summarises a profile written
 * elsewhere (`node --cpu-prof`) the same way.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { issue } from '../packages/issuer/dist/index.js';
import { createVerifier, memoryState } from '../packages/verifier/dist/index.js';
import { fileState } from '../packages/verifier/dist/node/index.js';
import { createFixtures, PRODUCT } from './lib/fixtures.mjs';
import { withLoadedStore } from './store.mjs';

const cold = (trust) => createVerifier({ trust, product: PRODUCT, cacheSize: 0, state: false });

/** Each case: fixtures → one operation. */
const cases = {
  'cwt-verify': (f) => {
    const verifier = cold({ roots: [f.rootPair.publicJwk] });
    return () => verifier.verify(f.tokens.cwt.certified);
  },
  'cwt-verify-bare': (f) => {
    const verifier = cold({ issuers: [f.issuerPair.publicJwk] });
    return () => verifier.verify(f.tokens.cwt.bare);
  },
  'jwt-verify': (f) => {
    const verifier = cold({ issuers: [f.issuerPair.publicJwk] });
    return () => verifier.verify(f.tokens.jwt.bare);
  },
  'issue-cwt': (f) => () => issue(f.claims, { signer: f.signer, certificate: f.storeCertificate }),
  'issue-jwt': (f) => () =>
    issue(f.claims, { signer: f.signer, certificate: f.certificates.jwt, format: 'jwt' }),
  'consume-memory': (f) => consumeCase(f, memoryState()),
  'consume-file': (f) => {
    const dir = mkdtempSync(join(tmpdir(), 'licensekit-profile-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    return consumeCase(f, fileState(join(dir, 'state.json')));
  },
};

/**
 * The store under the load of `pnpm bench store` (32 connections or callers, refresh by
 * license key): the profile is of this process, the server's, while the load runs for 3 s.
 * PostgreSQL cases need LICENSEKIT_TEST_DATABASE_URL.
 */
const storeCases = {
  'store-refresh-pglite': ['pglite', 'refresh'],
  'store-refresh-postgres': ['postgres', 'refresh'],
  'store-db-limit-pglite': ['pglite', 'db-limit'],
  'store-db-limit-postgres': ['postgres', 'db-limit'],
};

async function profileStore(name) {
  const [kind, side] = storeCases[name];
  return withLoadedStore(kind, side, async (run) => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const load = await run(3);
    const { profile: result } = await session.post('Profiler.stop');
    session.disconnect();
    return { calls: load.ok, result };
  });
}

async function consumeCase(f, state) {
  const quota = { ...f.claims.quota, exports: { limit: 1e12, per: 'month' } };
  const token = await issue({ ...f.claims, quota }, { signer: f.signer });
  const verifier = createVerifier({
    trust: { issuers: [f.issuerPair.publicJwk] },
    product: PRODUCT,
    state,
  });
  return () => verifier.consume(token, 'exports', 1);
}

/**
 * The V8 CPU profiler (what `node --cpu-prof` runs), started after set-up and a warm-up so
 * module loading and JIT compilation stay out of the samples.
 */
async function profile(name) {
  const operation = await cases[name](await createFixtures());
  const loop = async (ms) => {
    const until = performance.now() + ms;
    let calls = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 100; i++) await operation();
      calls += 100;
    }
    return calls;
  };
  await loop(500);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const calls = await loop(3000);
  const { profile: result } = await session.post('Profiler.stop');
  session.disconnect();
  return { calls, result };
}

/**
 * Shares of the samples by function, self and inclusive, most first. With `spans`, a list
 * of [from, to] in the profile's clock (microseconds of CLOCK_MONOTONIC on Linux: the
 * clock of process.hrtime in any other process), only the samples inside them count, so
 * the profile of a whole process (`node --cpu-prof`) can be cut to the moments under load.
 * @returns {{ samples: number, self: [string, number][], inclusive: [string, number][] }}
 */
export function profileShares(profile, { top = 20, spans } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const id of node.children ?? []) parents.set(id, node.id);
  const label = ({ callFrame: frame }) =>
    `${frame.functionName || '(anonymous)'}  ${frame.url.split('/').slice(-3).join('/')}:${frame.lineNumber + 1}`;
  let at = profile.startTime;
  const samples = profile.samples.filter((_, index) => {
    at += profile.timeDeltas?.[index] ?? 0;
    return spans === undefined || spans.some(([from, to]) => at >= from && at <= to);
  });
  const self = new Map();
  const inclusive = new Map();
  for (const id of samples) {
    const own = label(nodes.get(id));
    self.set(own, (self.get(own) ?? 0) + 1);
    const seen = new Set();
    for (let node = id; node !== undefined; node = parents.get(node)) {
      const name = label(nodes.get(node));
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
      seen.add(name);
    }
  }
  const shares = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, count]) => [name, count / samples.length]);
  return { samples: samples.length, self: shares(self), inclusive: shares(inclusive) };
}

export function summarize(profile, top = 20, spans = undefined) {
  const { self, inclusive } = profileShares(profile, { top, spans });
  const lines = (shares) =>
    shares.map(([name, share]) => `${(100 * share).toFixed(1).padStart(6)}%  ${name}`).join('\n');
  return `self\n${lines(self)}\n\ninclusive\n${lines(inclusive)}`;
}

async function main() {
  const [name, out] = process.argv.slice(2);
  // A profile written elsewhere, e.g. by `node --cpu-prof` (bench/scale.mjs profiles a
  // store instance that way).
  if (name === '--summarize' && out !== undefined) {
    console.log(summarize(JSON.parse(readFileSync(out, 'utf8'))));
    return;
  }
  if (!(name in cases) && !(name in storeCases)) {
    console.error(
      `usage: node bench/profile.mjs <case> [out.cpuprofile] | --summarize <file.cpuprofile>; cases: ${[...Object.keys(cases), ...Object.keys(storeCases)].join(', ')}`,
    );
    process.exit(2);
  }
  const { calls, result } = await (name in storeCases ? profileStore(name) : profile(name));
  console.log(
    `${name}: ${calls} ${name in storeCases ? 'refreshes' : 'calls'} in 3 s under the profiler\n`,
  );
  console.log(summarize(result));
  if (out !== undefined) writeFileSync(out, JSON.stringify(result));
}

// Imported (bench/scale.mjs summarises its profiles here), it runs nothing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
