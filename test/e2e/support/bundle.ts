import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../support/vectors.js';

/** The entry files of the browser build (scripts/browser-bundle.mjs). */
export const FULL_BUNDLE = 'licensekit-verifier.js';
export const COMPACT_BUNDLE = 'licensekit-verifier-compact.js';

/**
 * Builds the browser bundles of the current sources into a fresh temporary directory and
 * returns it. Each suite gets its own copy, so it never reads a stale build nor races
 * scripts/build.mjs clearing packages/verifier/dist.
 */
export function buildBrowserBundle(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'licensekit-browser-'));
  execFileSync(process.execPath, ['scripts/browser-bundle.mjs', outdir], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  return outdir;
}

/** The JavaScript files of a bundle directory (entries and chunks, no source maps). */
export function bundleFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.js'));
}
