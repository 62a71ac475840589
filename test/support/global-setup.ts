import { execFileSync } from 'node:child_process';
import { repoRoot } from './vectors.js';

/**
 * Builds every dist/ once before the suite: tests that start real processes (the CLI,
 * the example app, child processes sharing a state file) and the browser tests run the
 * built JavaScript, and must never run a stale build.
 */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'inherit' });
}
