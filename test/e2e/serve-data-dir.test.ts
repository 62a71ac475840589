/**
 * `licensekit serve` and its data directory, as real processes: a second store on the same
 * PGlite directory is refused (it used to start and serve, and paid orders were lost); a
 * store whose port is taken exits before it opens the database; a store killed with
 * SIGKILL leaves a stale lock that the next start breaks, and its orders are all there; a
 * damaged directory gives a clear message and a recovery path, never a WASM abort.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/vectors.js';

const BIN = join(repoRoot, 'packages/cli/bin/licensekit.mjs');
const root = mkdtempSync(join(tmpdir(), 'licensekit-serve-'));
const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Store {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

interface Exit {
  code: number | null;
  stderr: string;
}

function serveProcess(dataDir: string, port = '0') {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dataDir, '--port', port], {
    env: { ...process.env, LOG_LEVEL: 'warn', LICENSEKIT_ADMIN_TOKEN: 'serve-test-admin' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  );
  return { child, exited, stderr: () => stderr };
}

/** Starts a store and waits for its "listening on" line. */
async function startServe(dataDir: string): Promise<Store> {
  const { child, exited, stderr } = serveProcess(dataDir);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr());
      if (match?.[1]) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    void exited.then((exit) => {
      clearInterval(timer);
      reject(new Error(`serve exited with ${exit.code}: ${exit.stderr}`));
    });
  });
  return { child, url, stderr };
}

/** Runs a serve that is expected to refuse to start, with a time bound. */
async function refusedServe(dataDir: string, port?: string): Promise<Exit> {
  const { child, exited } = serveProcess(dataDir, port);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exit = await exited;
  clearTimeout(timer);
  return exit;
}

async function stop(store: Store, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((resolve) => store.child.once('exit', resolve));
  store.child.kill(signal);
  await exited;
}

async function checkout(store: Store): Promise<string> {
  const response = await fetch(`${store.url}/v1/checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({
      productId: 'photon',
      planId: 'pro-monthly',
      email: `buyer-${randomUUID()}@example.com`,
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { order: { id: string } }).order.id;
}

async function orderIds(store: Store): Promise<string[]> {
  const response = await fetch(`${store.url}/v1/admin/orders?limit=100`, {
    headers: { authorization: 'Bearer serve-test-admin' },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { orders: { id: string }[] }).orders.map((o) => o.id).sort();
}

describe('licensekit serve and its data directory', () => {
  test('a second store on the same directory is refused; the first keeps every order across kills', async () => {
    const dataDir = join(root, 'shared');
    const first = await startServe(dataDir);
    const bought = [await checkout(first), await checkout(first)];

    const second = await refusedServe(dataDir);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`in use by another licensekit store (pid ${first.child.pid}`);
    expect(second.stderr).not.toMatch(/Aborted|at .*\.js:\d+/);
    // The first store was not disturbed.
    bought.push(await checkout(first));
    expect(await orderIds(first)).toEqual([...bought].sort());

    // Killed without a chance to clean up: the lock stays, its owner is gone.
    await stop(first, 'SIGKILL');
    expect(JSON.parse(readFileSync(join(dataDir, 'db.lock'), 'utf8')).pid).toBe(first.child.pid);
    const restarted = await startServe(dataDir);
    expect(await orderIds(restarted)).toEqual([...bought].sort());

    // A clean stop releases the lock.
    await stop(restarted, 'SIGTERM');
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
  });

  test('a taken port is found before the database is opened', async () => {
    const holder = await startServe(join(root, 'port-holder'));
    const port = new URL(holder.url).port;
    const dataDir = join(root, 'never-opened');
    const refused = await refusedServe(dataDir, port);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`port ${port} is in use`);
    expect(existsSync(join(dataDir, 'db'))).toBe(false);
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
    await stop(holder, 'SIGTERM');
  });

  test('a damaged directory gives the recovery path, not a WASM abort', async () => {
    const dataDir = join(root, 'damaged');
    await stop(await startServe(dataDir), 'SIGTERM');
    truncateSync(join(dataDir, 'db', 'global', 'pg_control'), 100);
    const refused = await refusedServe(dataDir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `PGlite could not open the database in ${join(dataDir, 'db')}`,
    );
    expect(refused.stderr).toContain(`mv ${join(dataDir, 'db')} ${join(dataDir, 'db')}.damaged`);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    // Refusing released the lock: after the documented recovery the store starts.
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
  });
});
