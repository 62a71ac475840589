/**
 * A full disk under a PGlite store (issue 8, "Faults"). The data directory lives on a
 * small tmpfs of its own; the test fills it with a file of its own, then keeps buying.
 * Every checkout is answered 201 or 503 STORAGE_FULL with a Retry-After — never a 500,
 * never a crash — and nothing is half-written: once the filler is gone, every refused
 * checkout retried with its Idempotency-Key makes exactly one order, every order
 * answered 201 is there, and the directory opens again after a restart with all of them.
 *
 * Needs root to mount the tmpfs (the CI machine is root); elsewhere the file is skipped
 * with that reason.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skipping } from '../support/skip.js';
import { type Answer, StoreClient } from './support/store-client.js';
import {
  killStoreProcesses,
  type StoreProcess,
  startStoreProcess,
} from './support/store-process.js';

const ADMIN_TOKEN = 'faults-disk-admin-token';
/** Room for a fresh PGlite store (~41 MB) and a little more. */
const DISK_MB = 64;
const CHECKOUTS_WHILE_FULL = 40;

const mountPoint = mkdtempSync(join(tmpdir(), 'licensekit-disk-'));
function tryMount(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    return 'mounting a small tmpfs needs root on Linux (CI runs as root)';
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MB}m`, 'tmpfs', mountPoint]);
    return undefined;
  } catch (error) {
    return `this machine refuses mounting a tmpfs: ${(error as Error).message.split('\n')[0]}`;
  }
}
const unmountable = tryMount();
skipping('the full-disk test', unmountable);

/** Fills the file system with one file until it refuses a byte; returns its path. */
function fillDisk(): string {
  const path = join(mountPoint, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe.skipIf(unmountable)('a full disk under a PGlite store', () => {
  const dataDir = join(mountPoint, 'store');
  let store: StoreProcess;
  let client: StoreClient;

  beforeAll(async () => {
    store = await startStoreProcess({ dataDir, adminToken: ADMIN_TOKEN });
    client = new StoreClient(store.url, ADMIN_TOKEN);
  }, 120_000);

  afterAll(async () => {
    await killStoreProcesses();
    if (!unmountable) execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  const buy = (idempotencyKey: string, email: string) =>
    client.checkout({ productId: 'photon', planId: 'pro-monthly', email }, idempotencyKey);

  test('refused with 503 STORAGE_FULL while full, nothing half-written, all there after', async () => {
    const first = await buy(randomUUID(), 'first@example.com');
    expect(first?.status).toBe(201);

    const filler = fillDisk();
    const attempts: { key: string; email: string; answer: Answer | undefined }[] = [];
    for (let i = 0; i < CHECKOUTS_WHILE_FULL; i++) {
      const key = randomUUID();
      const email = `full-${i}@example.com`;
      attempts.push({ key, email, answer: await buy(key, email) });
    }
    const statuses = attempts.map((a) => a.answer?.status);
    // A few may still fit in pages the database had already allocated; then it refuses.
    expect(
      statuses.every((s) => s === 201 || s === 503),
      JSON.stringify(statuses),
    ).toBe(true);
    const refused = attempts.filter((a) => a.answer?.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const { answer } of refused) {
      expect(answer!.body).toMatchObject({ error: { code: 'STORAGE_FULL' } });
      expect(answer!.headers.get('retry-after')).toBe('60');
    }
    expect(store.alive()).toBe(true);
    expect(store.log()).not.toMatch(/INTERNAL|Aborted/);

    unlinkSync(filler);
    // Retried with their keys: one order each; the ones answered 201 answer the same again.
    for (const attempt of attempts) {
      const again = await buy(attempt.key, attempt.email);
      expect(again?.status, JSON.stringify(again?.body)).toBe(201);
      if (attempt.answer?.status === 201) {
        expect(again!.body).toMatchObject({
          order: { id: (attempt.answer.body as { order: { id: string } }).order.id },
        });
      }
    }
    const expected = CHECKOUTS_WHILE_FULL + 1;
    const orders = await client.adminOrders();
    expect(orders).toHaveLength(expected);
    expect(orders.every((order) => order.status === 'paid' && order.licenseId !== null)).toBe(true);

    // The directory opens again, whole.
    await store.stop();
    store = await startStoreProcess({ dataDir, adminToken: ADMIN_TOKEN });
    client = new StoreClient(store.url, ADMIN_TOKEN);
    expect(await client.adminOrders()).toHaveLength(expected);
  }, 180_000);
});
