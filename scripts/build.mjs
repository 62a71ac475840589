#!/usr/bin/env node
// Builds every package's dist/ with esbuild. Tests and typechecks run from the
// TypeScript sources (the "source" export condition); dist/ is what Node, the CLI's bin,
// the example app and browsers run.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = (name) => join(root, 'packages', name);

/** Bare imports stay imports: each workspace package resolves to its own dist at run time. */
const externalBare = {
  name: 'external-bare',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: args.path, external: true },
    );
  },
};

async function library(name, entryPoints) {
  const dir = pkg(name);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  await build({
    entryPoints: entryPoints.map((entry) => join(dir, 'src', entry)),
    outdir: join(dir, 'dist'),
    outbase: join(dir, 'src'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    plugins: [externalBare],
    logLevel: 'warning',
  });
}

const builds = {
  core: () => library('core', ['index.ts', 'write.ts', 'ed25519/node.ts', 'ed25519/web.ts']),
  issuer: () => library('issuer', ['index.ts']),
  verifier: () => library('verifier', ['index.ts', 'compact.ts', 'node/index.ts']),
};

const only = process.argv.slice(2);
const started = Date.now();
for (const [name, run] of Object.entries(builds)) {
  if (only.length > 0 && !only.includes(name)) continue;
  try {
    readFileSync(join(pkg(name), 'package.json'));
  } catch {
    continue;
  }
  mkdirSync(join(pkg(name), 'dist'), { recursive: true });
  await run();
}
console.log(`build: done in ${Date.now() - started} ms`);
