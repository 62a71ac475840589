#!/usr/bin/env node
// Builds every package's dist/ with esbuild. Tests and typechecks run from the
// TypeScript sources (the "source" export condition); dist/ is what Node, the CLI's bin,
// the example app and browsers run.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildBrowserBundles } from './browser-bundle.mjs';

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

/**
 * Puts a build's files in place without ever deleting dist/ first: processes started by a
 * test run while another build runs (several test runs may overlap) must always find every
 * file. Each changed file is swapped in by rename, then stale files are removed — except
 * under the `keep` subdirectories, which other steps own.
 */
function replaceOutputs(outdir, outputFiles, keep = []) {
  const written = new Set();
  for (const file of outputFiles) {
    written.add(file.path);
    let same = false;
    try {
      same = Buffer.compare(readFileSync(file.path), file.contents) === 0;
    } catch {}
    if (same) continue;
    mkdirSync(dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
  for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (keep.some((dir) => path.startsWith(join(outdir, dir) + '/'))) continue;
    if (entry.isFile() && !written.has(path)) rmSync(path, { force: true });
  }
}

async function library(name, entryPoints, keep = []) {
  const dir = pkg(name);
  const outdir = join(dir, 'dist');
  const result = await build({
    entryPoints: entryPoints.map((entry) => join(dir, 'src', entry)),
    outdir,
    outbase: join(dir, 'src'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    plugins: [externalBare],
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(outdir, { recursive: true });
  replaceOutputs(outdir, result.outputFiles, keep);
}

/**
 * The `licensekit` command: dist/licensekit.mjs holds the argument parsing (commander)
 * and dist/commands/<name>.mjs one self-contained bundle per command, which main imports
 * with import() when that command runs. So `licensekit verify` never parses the issuer,
 * the CBOR encoder or the other commands, and loads two files: one ESM module graph of
 * a dozen shared chunks took twice as long to load as the same code in one file.
 * Workspace packages are bundled from their TypeScript sources (the "source" condition;
 * `#ed25519-platform` resolves to core's node.ts through "node"). commander is CommonJS
 * and requires Node built-ins, hence the `require` banner.
 */
async function cli() {
  const dir = pkg('cli');
  const outdir = join(dir, 'dist');
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    outExtension: { '.js': '.mjs' },
    // LICENSEKIT_BUILD_UNMINIFIED=1 keeps the CLI's names, for profiles (bench/profile.mjs).
    minify: process.env.LICENSEKIT_BUILD_UNMINIFIED !== '1',
    sourcemap: true,
    legalComments: 'linked',
    banner: {
      js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
    },
    write: false,
    logLevel: 'warning',
  };
  /** main.ts's `import('./commands/x.js')` stays an import, of the command's own bundle. */
  const lazyCommands = {
    name: 'lazy-commands',
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) =>
        args.kind === 'dynamic-import'
          ? { path: args.path.replace(/\.js$/, '.mjs'), external: true }
          : undefined,
      );
    },
  };
  const commandsDir = join(dir, 'src', 'commands');
  const commands = readdirSync(commandsDir).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
  );
  const [main, perCommand] = await Promise.all([
    build({
      ...common,
      entryPoints: { licensekit: join(dir, 'src', 'main.ts') },
      outdir,
      plugins: [lazyCommands],
    }),
    build({
      ...common,
      entryPoints: commands.map((file) => join(commandsDir, file)),
      outdir: join(outdir, 'commands'),
      // `serve` loads the store from its own dist at run time: the server's dependencies
      // (fastify, PGlite with its WebAssembly files, pg) are not bundled.
      external: ['@licensekit/store'],
    }),
  ]);
  // Commands first, then the entry that imports them.
  mkdirSync(outdir, { recursive: true });
  replaceOutputs(outdir, [...perCommand.outputFiles, ...main.outputFiles]);
}

const builds = {
  core: () =>
    library('core', [
      'index.ts',
      'log/index.ts',
      'offline/index.ts',
      'write.ts',
      'ed25519/enable-noble.ts',
      'encoding/base64url-node.ts',
      'encoding/base64url-web.ts',
      'ed25519/node.ts',
      'ed25519/web.ts',
    ]),
  issuer: () => library('issuer', ['index.ts']),
  verifier: async () => {
    await library(
      'verifier',
      [
        'index.ts',
        'compact.ts',
        'device.ts',
        'noble.ts',
        'enable-log-proofs.ts',
        'offline/index.ts',
        'node/index.ts',
      ],
      ['browser'],
    );
    // dist/browser/: self-contained ESM bundles for pages, extensions, Deno and Bun.
    await buildBrowserBundles({ outdir: join(pkg('verifier'), 'dist', 'browser') });
  },
  // dist/bench.js: the in-process refresh of `pnpm bench store` (not in the package's exports).
  // dist/db/pglite-worker-thread.js: the PGlite worker thread, started by its file name.
  store: () => library('store', ['index.ts', 'bench.ts', 'db/pglite-worker-thread.ts']),
  cli: cli,
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
