import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ManualClock } from '../../packages/store/src/lib/clock.js';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';

/**
 * The example app (examples/offline-app, "Photon") through the whole offline life of a
 * license, as a real user runs it: separate processes sharing a state file, a real store
 * on 127.0.0.1 to buy from and refresh with, and PHOTON_NOW to move the app's clock (the
 * store's clock moves with it, so both sides agree on what time it is).
 */

const run = promisify(execFile);
const DAY = 86_400_000;

describe('the example app: activate, use quota offline, clock set back, refresh, grace, expiry', () => {
  let store: RunningStore | undefined;
  // The store has run for a while (its certificate dates from its first start) when the
  // customer buys.
  const storeStarted = Date.UTC(2026, 2, 1, 12);
  const clock = new ManualClock(storeStarted);
  const start = storeStarted + 10 * DAY;
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-example-'));
  const home = join(dir, 'photon');
  let storeUrl = '';

  async function photon(at: number, ...args: string[]): Promise<{ code: number; out: string }> {
    try {
      const { stdout } = await run(
        process.execPath,
        [join(repoRoot, 'examples/offline-app/photon.mjs'), ...args],
        {
          env: { ...process.env, PHOTON_HOME: home, PHOTON_NOW: new Date(at).toISOString() },
        },
      );
      return { code: 0, out: stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  }

  beforeAll(async () => {
    store = await startStore(
      {
        port: 0,
        dataDir: join(dir, 'store'),
        seedDemo: true,
        adminToken: 'example-admin',
        clock,
        logger: false,
      },
      false,
    );
    storeUrl = store.url;
    writeFileSync(join(dir, 'root.pub.json'), JSON.stringify(store.rootPublicJwk));
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the whole life', async () => {
    clock.set(start);
    // Buy Pro (test provider): the store answers with the license key and the first token.
    const bought = await fetch(`${storeUrl}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'example-app-1' },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'ada@example.com',
      }),
    });
    expect(bought.status).toBe(201);
    const { license } = (await bought.json()) as { license: { token: string } };
    writeFileSync(join(dir, 'first.token'), license.token);

    // Activate with the token, offline.
    const activated = await photon(
      start,
      'activate',
      '--token',
      join(dir, 'first.token'),
      '--trust',
      join(dir, 'root.pub.json'),
    );
    expect(activated.out).toContain('Photon is activated');
    expect(activated.out).toContain('license OK: active');

    // Use quota offline, in two processes one after the other: the state file keeps count.
    expect((await photon(start + 60_000, 'export', '--count', '3')).out).toContain(
      '997 exports left',
    );
    expect((await photon(start + 120_000, 'export', '--count', '2')).out).toContain(
      '995 exports left',
    );

    // The customer sets the clock back two days: caught, and quota cannot be spent.
    const tampered = await photon(start - 2 * DAY, 'status');
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain('clock_tampered');
    expect((await photon(start - 2 * DAY, 'export')).out).toContain('refused (clock_tampered)');

    // Two days on the token is due for refresh; the store is reachable, so it refreshes.
    clock.set(start + 2 * DAY);
    expect((await photon(start + 2 * DAY, 'status')).out).toContain('refresh_due');
    const refreshed = await photon(start + 2 * DAY, 'refresh', '--store', storeUrl);
    expect(refreshed.out).toContain('refreshed.');
    expect(refreshed.out).toContain('license OK: active');
    expect(refreshed.out).toContain('995 of 1000 left');

    // The old token is now an older token of the lineage: replaying it is refused.
    const replay = await photon(
      start + 2 * DAY + 60_000,
      'activate',
      '--token',
      join(dir, 'first.token'),
    );
    expect(replay.code).toBe(1);
    expect(replay.out).toContain('rolled_back');

    // The store goes away; the period ends; the app keeps working through grace …
    await store?.close();
    store = undefined;
    const endOfTerm = start + 31 * DAY;
    const offline = await photon(endOfTerm, 'refresh', '--store', storeUrl);
    expect(offline.out).toContain('could not refresh (failed)');
    expect(offline.out).toContain('license OK: grace');
    expect((await photon(endOfTerm + 60_000, 'export')).code).toBe(0);

    // … until grace ends.
    const expired = await photon(start + 40 * DAY, 'status');
    expect(expired.code).toBe(1);
    expect(expired.out).toContain('license NOT OK: expired');
  }, 120_000);
});
