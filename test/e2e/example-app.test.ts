import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/vectors.js';
import {
  killStoreProcesses,
  type StoreProcess,
  startStoreProcess,
} from './support/store-process.js';

/**
 * The example app (examples/offline-app, "Photon") through the story its README tells, a
 * statement at a time, as a user runs it: separate processes sharing a state file, a real
 * `licensekit serve` to buy from and refresh with, PHOTON_NOW to move the app's clock, and
 * the store restarted with `--now +2d` (LICENSEKIT_NOW) so that both agree on the time.
 */

const run = promisify(execFile);
const PHOTON = join(repoRoot, 'examples/offline-app/photon.mjs');

describe('the example app, as its README tells it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-example-'));
  const dataDir = join(dir, 'store');
  let store: StoreProcess | undefined;
  let order: { license: { key: string; token: string } };

  /** `PHOTON_NOW=now ./photon.mjs …args` with the app's files in `home`. */
  async function photon(
    now: string | undefined,
    args: string[],
    home = join(dir, '.photon'),
  ): Promise<{ code: number; out: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, PHOTON_HOME: home };
    if (now === undefined) delete env.PHOTON_NOW;
    else env.PHOTON_NOW = now;
    try {
      const { stdout } = await run(process.execPath, [PHOTON, ...args], { env });
      return { code: 0, out: stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  }

  const start = (env: Record<string, string> = {}) =>
    startStoreProcess({ dataDir, adminToken: 'example-admin', env });

  beforeAll(async () => {
    store = await start();
    copyFileSync(join(dataDir, 'keys', 'root.pub.json'), join(dir, 'root.pub.json'));
    const bought = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'example-app-1' },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'ada@example.com',
      }),
    });
    expect(bought.status).toBe(201);
    order = (await bought.json()) as typeof order;
    writeFileSync(join(dir, 'first.token'), `${order.license.token}\n`);
  }, 120_000);

  afterAll(async () => {
    await killStoreProcesses();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the whole life', async () => {
    if (store === undefined) throw new Error('no store');
    const root = join(dir, 'root.pub.json');
    const first = join(dir, 'first.token');

    // "activate --token … --trust …  # offline: license OK: active"
    const activated = await photon(undefined, ['activate', '--token', first, '--trust', root]);
    expect(activated.out).toContain('Photon is activated');
    expect(activated.out).toContain('license OK: active');

    // "export --count 3  # … 997 exports left"; the state file keeps count across processes.
    expect((await photon(undefined, ['export', '--count', '3'])).out).toContain('997 exports left');

    // A second machine activates online with the key: bound to its device key, a seat.
    const laptop = join(dir, '.photon-laptop');
    const online = await photon(
      undefined,
      ['activate', '--store', store.url, '--key', order.license.key, '--trust', root],
      laptop,
    );
    expect(online.code).toBe(0);
    expect(online.out).toContain('Photon is activated');
    expect(online.out).toContain('license OK: active');
    // The README's note: against a store on the real clock, PHOTON_NOW=+2d gets a token that
    // is due again at once, and Photon says so (here in a third home, holding the first token).
    const early = join(dir, '.photon-early');
    await photon(undefined, ['activate', '--token', first, '--trust', root], early);
    const ahead = await photon('+2d', ['refresh', '--store', store.url], early);
    expect(ahead.out).toContain('refreshed.');
    expect(ahead.out).toContain('license OK: refresh_due');
    expect(ahead.out).toContain("the store's clock is behind this one");

    // The store again, two days on ("serve --now +2d").
    await store.stop();
    store = await start({ LICENSEKIT_NOW: '+2d' });
    expect(store.log()).toContain('clock       PRETEND: started at');

    // "status  # refresh_due, still valid"
    const due = await photon('+2d', ['status']);
    expect(due.code).toBe(0);
    expect(due.out).toContain('license OK: refresh_due');

    // "refresh --store …  # refreshed: active again, 997 left"
    const refreshed = await photon('+2d', ['refresh', '--store', store.url]);
    expect(refreshed.code).toBe(0);
    expect(refreshed.out).toContain('refreshed.');
    expect(refreshed.out).toContain('license OK: active');
    expect(refreshed.out).toContain('997 of 1000 left');
    expect(refreshed.out).not.toContain('due again');

    // "activate --token ../../first.token  # the old token replayed: rolled_back, exit 1"
    const replay = await photon('+2d', ['activate', '--token', first]);
    expect(replay.code).toBe(1);
    expect(replay.out).toContain('rolled_back');

    // "status  # today's clock, two days behind what Photon has seen: clock_tampered, exit 1"
    const tampered = await photon(undefined, ['status']);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain('license NOT OK: clock_tampered');
    // "export  # and nothing can be spent: refused (clock_tampered), exit 1"
    const spend = await photon(undefined, ['export']);
    expect(spend.code).toBe(1);
    expect(spend.out).toContain('refused (clock_tampered)');

    // "+33d status  # past the term: grace, still works"
    const grace = await photon('+33d', ['status']);
    expect(grace.code).toBe(0);
    expect(grace.out).toContain('license OK: grace');
    expect((await photon('+33d', ['export'])).code).toBe(0);

    // The table: "while the store is unreachable Photon keeps working until grace ends".
    await store.stop();
    const unreachable = await photon('+33d', ['refresh', '--store', store.url]);
    expect(unreachable.code).toBe(0);
    expect(unreachable.out).toContain('could not refresh (failed)');
    expect(unreachable.out).toContain('license OK: grace');

    // "+40d status  # past grace: expired, exit 1"
    const expired = await photon('+40d', ['status']);
    expect(expired.code).toBe(1);
    expect(expired.out).toContain('license NOT OK: expired');

    // "PHOTON_HOME moves the app's files": everything above stayed in the two homes.
    expect(readFileSync(join(dir, '.photon', 'license.token'), 'utf8')).not.toBe(
      readFileSync(first, 'utf8'),
    );
  }, 240_000);

  test('PHOTON_NOW: an ISO 8601 time or a distance from now, anything else refused', async () => {
    const bad = await photon('2 days', ['status']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('PHOTON_NOW 2 days is not a time');
  });
});
