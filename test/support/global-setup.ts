import { execFileSync } from 'node:child_process';
import { repoRoot } from './vectors.js';

/**
 * Builds every dist/ once before the suite: tests that start real processes (the CLI,
 * the example app, child processes sharing a state file) and the browser tests run the
 * built JavaScript, and must never run a stale build.
 */
export default function setup(): void {
  // Every project inherits this setup; build once per run.
  if (process.env.LICENSEKIT_BUILT_FOR_TESTS === '1') return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  process.env.LICENSEKIT_BUILT_FOR_TESTS = '1';
}
