/**
 * Smoke tests of the browser build under Deno and Bun, whose binaries come from the npm
 * packages `deno` and `bun` (root devDependencies; bun's postinstall is allowed in
 * package.json "pnpm.onlyBuiltDependencies"). A runtime that is not installed, or does not
 * start here, is skipped with the reason printed, never failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildBrowserBundle } from '../e2e/support/bundle.js';
import { makeRuntimeFixture, type RuntimeFixture } from '../e2e/support/tokens.js';
import { skipping } from '../support/skip.js';
import { repoRoot } from '../support/vectors.js';

const SMOKE = join(repoRoot, 'test/runtimes/smoke.mjs');

interface Runtime {
  name: string;
  bin: string;
  /** Arguments before the smoke script's own. */
  args: (bundleDir: string) => string[];
  env: (scratch: string) => Record<string, string>;
}

const RUNTIMES: Runtime[] = [
  {
    name: 'deno',
    bin: join(repoRoot, 'node_modules/.bin/deno'),
    // No config or lock file lookup, no prompts, and reading only the bundle directory.
    args: (bundleDir) => [
      'run',
      '--no-config',
      '--no-lock',
      '--no-prompt',
      `--allow-read=${bundleDir}`,
      SMOKE,
    ],
    env: (scratch) => ({ DENO_DIR: join(scratch, 'deno'), DENO_NO_UPDATE_CHECK: '1' }),
  },
  {
    name: 'bun',
    bin: join(repoRoot, 'node_modules/.bin/bun'),
    args: () => [SMOKE],
    env: () => ({ BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', DO_NOT_TRACK: '1' }),
  },
];

/** The runtime's version line, or why it cannot run here. */
function probe(runtime: Runtime): { version: string } | { reason: string } {
  if (!existsSync(runtime.bin)) return { reason: `${runtime.bin} is missing (pnpm install)` };
  const run = spawnSync(runtime.bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) {
    const output = `${run.stderr ?? ''}${run.stdout ?? ''}${run.error ? String(run.error) : ''}`;
    return {
      reason: `\`${runtime.name} --version\` failed: ${output.trim().split('\n').slice(0, 3).join(' ')}`,
    };
  }
  return { version: run.stdout.trim().split('\n')[0]! };
}

let bundleDir: string;
let scratch: string;
let fixture: RuntimeFixture;

beforeAll(() => {
  bundleDir = buildBrowserBundle();
  scratch = mkdtempSync(join(tmpdir(), 'licensekit-runtimes-'));
  fixture = makeRuntimeFixture();
});

afterAll(() => {
  for (const dir of [bundleDir, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const runtime of RUNTIMES) {
  const found = probe(runtime);
  if ('reason' in found) skipping(`the ${runtime.name} smoke test`, found.reason);

  describe.skipIf('reason' in found)(`the browser build under ${runtime.name}`, () => {
    test('verifies a CWT and a JWT, and the compact entry refuses the JWT', () => {
      const run = spawnSync(
        runtime.bin,
        [...runtime.args(bundleDir), bundleDir, JSON.stringify(fixture)],
        {
          cwd: scratch,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, NO_COLOR: '1', ...runtime.env(scratch) },
        },
      );
      expect(run.stderr, `${runtime.name} wrote to stderr`).toBe('');
      expect(run.status).toBe(0);
      const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      console.info(`${runtime.name}: ${JSON.stringify(out)}`);
      expect(out.runtime).toMatch(new RegExp(`^${runtime.name} \\d+\\.\\d+\\.\\d+`));
      expect(out.full).toEqual({
        cwt: 'active',
        jwt: 'active',
        consumed: { granted: true, remaining: 997 },
      });
      expect(out.compact).toEqual({ cwt: 'active', jwt: 'malformed', api: ['product', 'verify'] });
    });
  });
}
