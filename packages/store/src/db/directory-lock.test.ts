import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DirectoryLockedError, lockDirectory } from './directory-lock.js';

/**
 * The embedded database directory is held by one process: a second one is refused with
 * a message naming the first; a lock left by a killed process is broken; of many takers
 * at once exactly one wins.
 */

const root = mkdtempSync(join(tmpdir(), 'licensekit-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function directory(): string {
  counter += 1;
  return join(root, `db${counter}`);
}

/** The built store (the suite's global setup builds it): a child process runs plain JavaScript. */
const BUILT_STORE = new URL('../../dist/index.js', import.meta.url).href;

/** A child process that takes the lock, says so, and waits to be killed. */
async function holderProcess(dir: string) {
  const script = `
    const { lockDirectory } = await import(${JSON.stringify(BUILT_STORE)});
    await lockDirectory(${JSON.stringify(dir)});
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

describe('database directory lock', () => {
  test('a second taker in the same process is refused, naming the owner', async () => {
    const dir = directory();
    const lock = await lockDirectory(dir);
    const refused = await lockDirectory(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DirectoryLockedError);
    const error = refused as DirectoryLockedError;
    expect(error.code).toBe('DATA_DIRECTORY_LOCKED');
    expect(error.owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(`${dir}.lock`);
    await lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const again = await lockDirectory(dir);
    await again.release();
  });

  test('of twenty takers at once exactly one wins', async () => {
    const dir = directory();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => lockDirectory(dir)));
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DirectoryLockedError);
    }
    await (
      won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockDirectory>>>
    ).value.release();
  });

  test('a live process on this host keeps it; once it is killed the lock is stale and broken', async () => {
    const dir = directory();
    const holder = await holderProcess(dir);
    try {
      const refused = await lockDirectory(dir).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DirectoryLockedError);
      expect((refused as DirectoryLockedError).owner?.pid).toBe(holder.pid);
    } finally {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    }
    // SIGKILL runs no exit handler: the file is still there, its owner is not.
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).pid).toBe(holder.pid);
    const lock = await lockDirectory(dir);
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  test('a lock from another host is never broken (its pid means nothing here)', async () => {
    const dir = directory();
    const owner = { pid: 999_999_999, host: 'elsewhere.example', since: '2026-01-01T00:00:00Z' };
    writeFileSync(`${dir}.lock`, JSON.stringify(owner));
    const refused = (await lockDirectory(dir).catch((error: unknown) => error)) as Error;
    expect(refused).toBeInstanceOf(DirectoryLockedError);
    expect(refused.message).toContain('on host elsewhere.example');
  });

  test('an unreadable lock blocks while fresh and is broken once a minute old', async () => {
    const dir = directory();
    writeFileSync(`${dir}.lock`, 'not json');
    expect(await lockDirectory(dir).catch((error: unknown) => error)).toBeInstanceOf(
      DirectoryLockedError,
    );
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${dir}.lock`, old, old);
    const lock = await lockDirectory(dir);
    await lock.release();
  });

  test('release leaves a lock that is no longer ours alone', async () => {
    const dir = directory();
    const lock = await lockDirectory(dir);
    const other = JSON.stringify({ pid: 1, host: 'other', since: 'x' });
    writeFileSync(`${dir}.lock`, other);
    await lock.release();
    expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(other);
  });
});
