#!/usr/bin/env node
// The browser ESM build of @licensekit/verifier: one self-contained file per entry (core
// included) that a page, a browser extension (Manifest V3 CSP), Deno or Bun loads with no
// bundler. `node scripts/browser-bundle.mjs [OUTDIR]` builds into OUTDIR (default
// packages/verifier/dist/browser); scripts/build.mjs and scripts/size.mjs import it.
//
// - Code splitting, so the dynamic imports in core's web platform module become chunks of
//   their own: the @noble/ed25519 fallback loads only where WebCrypto lacks Ed25519, the
//   portable SHA-256 only where there is no crypto.subtle at all (insecure origins).
// - `#ed25519-platform` must resolve to core's web.ts. Core's "imports" map has
//   `source: { node, default }`: with the "source" condition and platform "browser" the
//   "node" condition is not active, so "default" (web.ts) wins. The build checks that from
//   the metafile and fails if node.ts (node:crypto) ever slips in.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const defaultOutdir = resolve(repoRoot, 'packages/verifier/dist/browser');

/**
 * One file each, no chunks: service workers (a Manifest V3 extension's background) may not
 * use import(), so every lazily loaded part (revocation lists, refresh, usage reports, log
 * proofs, the noble fallback) is inlined. Larger, and outside the page budget.
 */
export const workerEntries = {
  'licensekit-verifier.worker': 'packages/verifier/src/prebuilt/index.ts',
};

/**
 * Entry file name (without .js) → source module. The prebuilt files switch the noble
 * fallback on, and the full one the issuance-log proof checker (packages/verifier/src/
 * prebuilt/): split into lazy chunks, they cost nothing until needed. An app bundling the
 * package entries opts in itself.
 */
export const browserEntries = {
  'licensekit-verifier': 'packages/verifier/src/prebuilt/index.ts',
  'licensekit-verifier-compact': 'packages/verifier/src/prebuilt/compact.ts',
};

/**
 * What an app that bundles the package gets in one file (`esbuild --bundle --minify
 * --format=esm --platform=browser`, no splitting: a service worker, a simple extension
 * build): the package entries themselves, without the opt-ins (noble fallback, log-proof
 * checker). Measured by scripts/size.mjs, never written.
 */
export const oneFileEntries = {
  'licensekit-verifier': 'packages/verifier/src/index.ts',
  'licensekit-verifier-compact': 'packages/verifier/src/compact.ts',
};

/**
 * Entries a page loads beside the full one, for a feature only some apps use: offline
 * activation (requests, responses, QR codes) works on a verifier of licensekit-verifier.js.
 * Built on their own like the others, so nothing of theirs reaches the main entry.
 */
export const addOnEntries = {
  'licensekit-verifier-offline': 'packages/verifier/src/offline/index.ts',
};

/**
 * Builds the browser bundles, one esbuild run per entry. A single run with both entries
 * put all the code they share, and the JSON/JWS decoder with it, into one common chunk, so
 * the compact entry loaded as much as the full one (17.5 KB against 15.2 KB min+gzip when
 * built alone, at the time of writing); separate runs tree-shake each entry on its own.
 * Their lazy chunks have identical content and so identical hashed names. With `write: false` nothing touches the disk and the result
 * carries `outputFiles` (scripts/size.mjs measures those).
 * @returns `{ metafile, outputFiles }` merged over the entries
 */
export async function buildBrowserBundles({ outdir = defaultOutdir, write = true } = {}) {
  // Chunk names carry content hashes: clear the directory so no stale chunk lingers.
  if (write) rmSync(outdir, { recursive: true, force: true });
  const metafile = { inputs: {}, outputs: {} };
  const outputFiles = new Map();
  const builds = [
    ...Object.entries({ ...browserEntries, ...addOnEntries }).map(([out, source]) => ({
      out,
      source,
      splitting: true,
    })),
    ...Object.entries(workerEntries).map(([out, source]) => ({ out, source, splitting: false })),
  ];
  for (const { out, source, splitting } of builds) {
    const result = await build({
      absWorkingDir: repoRoot,
      entryPoints: [{ in: source, out }],
      outdir,
      bundle: true,
      splitting,
      format: 'esm',
      platform: 'browser',
      // "source": workspace packages resolve to their TypeScript (core's package.json).
      conditions: ['source'],
      target: 'es2022',
      minify: true,
      sourcemap: 'linked',
      legalComments: 'eof',
      chunkNames: '[name]-[hash]',
      metafile: true,
      write,
      logLevel: 'warning',
    });
    assertWebPlatform(result.metafile);
    Object.assign(metafile.inputs, result.metafile.inputs);
    Object.assign(metafile.outputs, result.metafile.outputs);
    for (const file of result.outputFiles ?? []) outputFiles.set(file.path, file);
  }
  return { metafile, outputFiles: [...outputFiles.values()] };
}

/** Fails the build when a Node-only module reached a browser bundle. */
function assertWebPlatform(metafile) {
  const inputs = Object.keys(metafile.inputs);
  const nodeOnly = inputs.filter(
    (input) =>
      input.endsWith('/ed25519/node.ts') ||
      input.includes('/src/node/') ||
      input.startsWith('node:'),
  );
  if (nodeOnly.length > 0 || !inputs.some((input) => input.endsWith('/ed25519/web.ts'))) {
    throw new Error(
      `browser bundle: #ed25519-platform must resolve to core's web.ts; Node-only inputs: ${nodeOnly.join(', ') || 'none'}`,
    );
  }
}

/**
 * One-file bundles of `oneFileEntries`, in memory, as an app's bundler makes them: the
 * package's "browser"/"import"/"default" conditions plus "source" (the workspace packages
 * resolve to their TypeScript), no code splitting, so every dynamic import is inlined.
 * @returns `{ [name]: { code, metafile } }`
 */
export async function buildOneFileBundles() {
  const bundles = {};
  for (const [out, source] of Object.entries(oneFileEntries)) {
    const result = await build({
      absWorkingDir: repoRoot,
      entryPoints: [source],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['source'],
      metafile: true,
      write: false,
      logLevel: 'warning',
    });
    assertWebPlatform(result.metafile);
    bundles[out] = { code: result.outputFiles[0].text, metafile: result.metafile };
  }
  return bundles;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outdir = resolve(process.argv[2] ?? defaultOutdir);
  await buildBrowserBundles({ outdir });
  console.log(`browser bundles: ${outdir}`);
}
