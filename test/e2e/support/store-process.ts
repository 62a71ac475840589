/**
 * A licensekit store as a real child process, for the fault tests: started, killed with
 * SIGKILL at any instant (no handler runs, nothing is flushed), and started again on the
 * same data directory or database. In-process stores cannot be killed that way: a crash
 * is only honest when the process is really gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OperationsInput } from '../../../packages/store/src/config-operations.js';
import { skipping } from '../../support/skip.js';
import { repoRoot } from '../../support/vectors.js';

const CLI = join(repoRoot, 'packages/cli/bin/licensekit.mjs');
/** The built store (the suite's global setup builds dist/ before any test). */
const STORE_ENTRY = pathToFileURL(join(repoRoot, 'packages/store/dist/index.js')).href;
/** PGlite compiles its WebAssembly and may initialise a directory: slow on a loaded machine. */
const START_TIMEOUT_MS = 90_000;
/** Enough of stderr to explain a failure, without holding a long log in memory. */
const LOG_TAIL = 64 * 1024;

/**
 * What the CLI cannot set (retry schedule, claim duration): with `operations`, the store
 * starts through `startStore` of the built package in this small runner instead of
 * `licensekit serve` — the same server, process and signals, with those options.
 */
const RUNNER = `
const { startStore } = await import(process.env.LICENSEKIT_FAULTS_STORE_ENTRY);
try {
  const store = await startStore(JSON.parse(process.env.LICENSEKIT_FAULTS_STORE_OPTIONS));
  process.stderr.write('licensekit store listening on ' + store.url + '\\n');
} catch (error) {
  process.stderr.write(String(error && error.stack || error) + '\\n');
  process.exit(1);
}
`;

export interface StoreProcessOptions {
  dataDir: string;
  adminToken: string;
  /** PostgreSQL instead of PGlite in dataDir/db. */
  databaseUrl?: string;
  /** More environment: LICENSEKIT_WEBHOOK_POLL_MS, LICENSEKIT_REQUEST_TIMEOUT_MS, … */
  env?: Record<string, string>;
  /** buildStore's `operations` (starts the runner instead of the CLI, see RUNNER). */
  operations?: OperationsInput;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StoreProcess {
  readonly url: string;
  readonly pid: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<Exit>;
  /** True until the process exits. */
  alive(): boolean;
  /** The tail of its stderr (the start banner and warn-level JSON log lines). */
  log(): string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<Exit>;
  /** SIGTERM: the store's graceful close (requests finish, the database closes). */
  stop(): Promise<Exit>;
}

const running = new Set<ChildProcess>();

/** Starts a store and waits for its "listening on" line. */
export async function startStoreProcess(options: StoreProcessOptions): Promise<StoreProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    LICENSEKIT_ADMIN_TOKEN: options.adminToken,
    ...options.env,
  };
  // Never inherit the test runner's database: a store is on PGlite unless told otherwise.
  delete env.DATABASE_URL;
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  let args: string[];
  if (options.operations) {
    env.LICENSEKIT_FAULTS_STORE_ENTRY = STORE_ENTRY;
    env.LICENSEKIT_FAULTS_STORE_OPTIONS = JSON.stringify({
      dataDir: options.dataDir,
      port: 0,
      operations: options.operations,
    });
    args = ['--input-type=module', '-e', RUNNER];
  } else {
    args = [CLI, 'serve', '--data', options.dataDir, '--port', '0'];
  }
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-LOG_TAIL);
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      clearInterval(poll);
      clearTimeout(deadline);
      reject(new Error(`${why}\n${log}`));
    };
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match?.[1]) {
        clearInterval(poll);
        clearTimeout(deadline);
        resolve(match[1]);
      }
    }, 20);
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`the store did not start within ${START_TIMEOUT_MS} ms`);
    }, START_TIMEOUT_MS);
    void exited.then((exit) => fail(`the store exited (${exit.code ?? exit.signal}) at start`));
  });

  const signal = async (name: NodeJS.Signals) => {
    if (!gone) child.kill(name);
    return exited;
  };
  return {
    url,
    pid: child.pid ?? -1,
    exited,
    alive: () => !gone,
    log: () => log,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

/** SIGKILLs every store this module started that still runs (afterAll). */
export async function killStoreProcesses(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * The PostgreSQL half of a fault test needs LICENSEKIT_TEST_DATABASE_URL (a role that may
 * CREATE DATABASE). Without it the half is skipped with this reason — except in CI, where
 * it must run: there the missing variable fails the file, as the store harness does.
 */
export const postgresAdminUrl = process.env.LICENSEKIT_TEST_DATABASE_URL || undefined;
export const postgresUnavailable: string | undefined = postgresAdminUrl
  ? undefined
  : 'LICENSEKIT_TEST_DATABASE_URL is not set (a PostgreSQL role that may create databases)';
if (postgresUnavailable) {
  if (process.env.CI)
    throw new Error(`fault tests on PostgreSQL cannot run: ${postgresUnavailable}`);
  skipping('the PostgreSQL fault tests', postgresUnavailable);
}
