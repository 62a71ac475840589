import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  checkedScript,
  type ShellBlock,
  shellBlocks,
  shellCommands,
} from '../support/doc-blocks.js';
import { skipping } from '../support/skip.js';
import { repoRoot } from '../support/vectors.js';

/**
 * Every shell command of the READMEs, run as written (test/support/doc-blocks.ts says how
 * blocks are read): in a fresh directory that sees the repository's node_modules (so
 * `npx licensekit` is the workspace's, built by the global setup) and the example app, with
 * the store on a free port instead of 8787 (PORT, and the URLs rewritten to it), one bash
 * session per README so `cd` and files carry from block to block, each command's exit
 * status checked, and bounded in time. A block a test cannot run is marked
 * `<!-- doc-test: skip (reason) -->` and its reason printed at the end of the run.
 */

const STORE_START_MS = 90_000;
const SEGMENT_MS = 240_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A directory like the repository root for a reader's commands, without its files. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-readme-'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // The example app's code and dependencies; its files (.photon …) land here, not in the repo.
  const app = join(dir, 'examples', 'offline-app');
  mkdirSync(app, { recursive: true });
  for (const name of ['photon.mjs', 'license.mjs', 'package.json', 'node_modules']) {
    symlinkSync(join(repoRoot, 'examples', 'offline-app', name), join(app, name));
  }
  return dir;
}

/** The store's documented address, moved to this run's port. */
const onPort = (text: string, port: number) =>
  text.replace(/(?:127\.0\.0\.1|localhost):8787\b/g, `127.0.0.1:${port}`);

/** A README's commands in one bash session, a store in the background when it says so. */
class Reader {
  private readonly shell: ChildProcess;
  private output = '';
  private exited: number | null | undefined;
  private server: ChildProcess | undefined;
  private serverLog = '';
  private segments = 0;

  constructor(
    readonly dir: string,
    private readonly port: number,
  ) {
    this.shell = spawn('bash', ['--noprofile', '--norc'], {
      cwd: dir,
      env: this.env(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    for (const stream of [this.shell.stdout, this.shell.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        this.output += chunk;
      });
    }
    this.shell.once('exit', (code) => {
      this.exited = code;
    });
  }

  private env(): NodeJS.ProcessEnv {
    // PORT moves the store; LICENSEKIT_STORE_URL is where commands without --store look.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(this.port),
      LICENSEKIT_STORE_URL: `http://127.0.0.1:${this.port}`,
      NO_COLOR: '1',
    };
    for (const name of ['DATABASE_URL', 'LICENSEKIT_DATA', 'LICENSEKIT_ADMIN_TOKEN', 'PHOTON_NOW'])
      delete env[name];
    env.LICENSEKIT_LOG_FORMAT = 'json';
    return env;
  }

  /** The last part of what the session printed, to explain a failure. */
  tail(): string {
    return `${this.output.slice(-6000)}\n--- store ---\n${this.serverLog.slice(-3000)}`;
  }

  /** Runs commands in the session; resolves when they are done, rejects on a wrong exit. */
  async run(script: string): Promise<void> {
    const done = `@@doc-test-segment-${++this.segments}@@`;
    this.shell.stdin?.write(`${onPort(script, this.port)}\nprintf '%s\\n' '${done}'\n`);
    const deadline = Date.now() + SEGMENT_MS;
    while (!this.output.includes(done)) {
      if (this.exited !== undefined) throw new Error(`a command failed:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`no end within ${SEGMENT_MS} ms:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A store "in a second terminal": the previous one stopped (Ctrl-C), this one started. */
  async serve(command: string): Promise<void> {
    await this.stopServer();
    this.serverLog = '';
    const server = spawn('bash', ['-c', onPort(command, this.port)], {
      cwd: this.dir,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.server = server;
    for (const stream of [server.stdout, server.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        this.serverLog = (this.serverLog + chunk).slice(-64 * 1024);
      });
    }
    let gone = false;
    server.once('exit', () => {
      gone = true;
    });
    const deadline = Date.now() + STORE_START_MS;
    while (!/listening on http/.test(this.serverLog)) {
      if (gone) throw new Error(`the store exited at start:\n${this.serverLog}`);
      if (Date.now() > deadline) throw new Error(`the store did not start:\n${this.serverLog}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGINT to the store's whole process group (npx, the shell, node), as Ctrl-C does. */
  private async stopServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const pid = server?.pid;
    if (server === undefined || pid === undefined || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    process.kill(-pid, 'SIGINT');
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }, 20_000);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stopServer();
    if (this.shell.pid !== undefined && this.exited === undefined) {
      try {
        process.kill(-this.shell.pid, 'SIGKILL');
      } catch {}
    }
  }
}

/** Runs a README's blocks in order; returns the blocks it skipped. */
async function runReadme(
  file: string,
  reader: Reader,
): Promise<{ ran: number; skipped: ShellBlock[] }> {
  const blocks = shellBlocks(readFileSync(join(repoRoot, file), 'utf8'));
  let ran = 0;
  const skipped: ShellBlock[] = [];
  for (const block of blocks) {
    if (block.skip !== undefined) {
      skipped.push(block);
      continue;
    }
    if (block.server) {
      expect(block.commands, `${file}:${block.line}`).toHaveLength(1);
      await reader.serve((block.commands[0] as { text: string }).text);
    } else {
      await reader.run(checkedScript(block.commands));
    }
    ran++;
  }
  return { ran, skipped };
}

const readers: Reader[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(readers.map((reader) => reader.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('how the READMEs are read', () => {
  test('blocks, skips with a reason, continuations, promised exits, store blocks', () => {
    const blocks = shellBlocks(
      [
        '<!-- doc-test: skip (CI runs it) -->',
        '```sh',
        'npm install',
        '```',
        '```ts',
        'const x = 1;',
        '```',
        '```sh',
        '# a comment',
        'a --flag \\',
        '  --more       # still one command',
        'b --now +40d   # expired, exit 1',
        '```',
        '```sh',
        'npx licensekit serve --data d   # in a second terminal',
        '```',
      ].join('\n'),
    );
    expect(blocks.map((block) => [block.line, block.skip, block.server])).toEqual([
      [2, 'CI runs it', false],
      [8, undefined, false],
      [14, undefined, true],
    ]);
    expect(blocks[1]?.commands).toEqual([
      { text: 'a --flag \\\n  --more       # still one command', exit: 0 },
      { text: 'b --now +40d   # expired, exit 1', exit: 1 },
    ]);
    expect(() => shellBlocks('<!-- doc-test: maybe -->\n```sh\nx\n```')).toThrow(/skip \(reason\)/);
    expect(() => shellBlocks('```sh\nx\n')).toThrow(/never closed/);
    expect(shellCommands(['', '  # only a comment', ''])).toEqual([]);
  });
});

describe('every command of the READMEs, run', () => {
  for (const file of ['README.md', 'examples/offline-app/README.md']) {
    test(
      file,
      async () => {
        const dir = workspace();
        dirs.push(dir);
        const reader = new Reader(dir, await freePort());
        readers.push(reader);
        // The set-up block (skipped: CI runs the install and the suite itself) ends by
        // starting the store, `pnpm start`: the build (done by the global setup) and this.
        if (file === 'README.md') await reader.serve('npx licensekit serve');
        const { ran, skipped } = await runReadme(file, reader);
        for (const block of skipped)
          skipping(`${file}: the shell block at line ${block.line}`, block.skip);
        expect(ran).toBeGreaterThan(0);
        // Few blocks are skipped, and each says why.
        expect(skipped.length).toBeLessThanOrEqual(1);
      },
      (SEGMENT_MS + STORE_START_MS) * 2,
    );
  }
});
