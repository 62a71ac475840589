/**
 * Real child processes for the tests that need them (crash safety, two processes sharing
 * one file state). Fixtures are plain .mjs scripts that import the built package, as an
 * app would; the suite's global setup builds dist/ once before any test runs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../node/fixtures/', import.meta.url));

/** Builds dist/ if it is missing (the global setup normally has); never deletes a build. */
export function ensureBuilt(): void {
  const built = [
    'packages/verifier/dist/index.js',
    'packages/verifier/dist/node/index.js',
    'packages/core/dist/index.js',
  ];
  if (built.every((file) => existsSync(`${repoRoot}${file}`))) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'ignore' });
}

export interface Fixture {
  readonly child: ChildProcess;
  /** Resolves with the first stdout line that satisfies `match`. */
  line(match?: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited (and been reaped). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts `node fixtures/<name> ...args`. */
export function startFixture(name: string, args: readonly string[]): Fixture {
  const child = spawn(process.execPath, [`${fixtures}${name}`, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    exited,
    stderr: () => errors,
    line(match = () => true, timeoutMs = 15_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching line from ${name} in ${timeoutMs} ms: ${errors}`)),
          timeoutMs,
        );
        const waiter = {
          match,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        waiters.push(waiter);
        void exited.then(() => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            reject(new Error(`${name} exited before a matching line: ${errors}`));
          }
        });
      });
    },
  };
}

/** Kills a fixture this test started (by its pid) and waits until it is gone. */
export async function killFixture(
  fixture: Fixture,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (fixture.child.exitCode === null && fixture.child.signalCode === null)
    fixture.child.kill(signal);
  await fixture.exited;
}
