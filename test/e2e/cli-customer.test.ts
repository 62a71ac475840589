import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/vectors.js';
import {
  killStoreProcesses,
  type StoreProcess,
  startStoreProcess,
} from './support/store-process.js';

/**
 * `licensekit activate` and `licensekit refresh` as a customer's app runs them: separate
 * processes against a real `licensekit serve`, with the files they keep, what they print,
 * and their exit codes when the store says no or cannot be reached.
 */

const CLI = join(repoRoot, 'packages/cli/bin/licensekit.mjs');

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Runs the built CLI; `stdin` is written to its standard input (then closed). */
function licensekit(args: string[], env: NodeJS.ProcessEnv = {}, stdin = ''): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(stdin);
  });
}

describe('the command line as a customer: activate and refresh against a store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-customer-e2e-'));
  let store: StoreProcess;
  let key = '';
  const state = join(dir, 'app', 'license-state.json');

  beforeAll(async () => {
    store = await startStoreProcess({ dataDir: join(dir, 'store'), adminToken: 'customer-admin' });
    const bought = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'customer-1' },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'ada@example.com',
      }),
    });
    expect(bought.status).toBe(201);
    key = ((await bought.json()) as { license: { key: string } }).license.key;
  }, 120_000);

  afterAll(async () => {
    await killStoreProcesses();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The key never shows: not in any output, not in any file the commands keep. */
  function expectNoKey(...texts: string[]): void {
    for (const text of texts) expect(text).not.toContain(key);
    for (const file of readdirSync(join(dir, 'app'))) {
      expect(readFileSync(join(dir, 'app', file), 'utf8')).not.toContain(key);
    }
  }

  test('activate: a seat, a bound token, the device key 0600, readable output, no key', async () => {
    const activated = await licensekit([
      'activate',
      '--store',
      store.url,
      '--key',
      key,
      '--state',
      state,
      '--name',
      'e2e laptop',
    ]);
    expect(activated.err).toBe('');
    expect(activated.code).toBe(0);
    expect(activated.out).toMatch(/^Activated: license lic_\S+ on this device \(e2e laptop, dev_/);
    expect(activated.out).toContain('VALID: active');
    expect(activated.out).toMatch(/device +bound to /);
    expect(activated.out).toContain("the store's /v1/keys, pinned");
    expect(readdirSync(join(dir, 'app')).sort()).toEqual([
      'license-state.device.json',
      'license-state.json',
      'license-state.license.json',
      'license-state.token',
    ]);
    if (process.platform !== 'win32') {
      expect(statSync(join(dir, 'app', 'license-state.device.json')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'app')).mode & 0o777).toBe(0o700);
    }
    expectNoKey(activated.out, activated.err);

    // The token kept is what `verify --state` checks, as the app would.
    const root = join(dir, 'root.pub.json');
    const keys = (await (await fetch(`${store.url}/v1/keys`)).json()) as { roots: unknown[] };
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(root, JSON.stringify(keys.roots[0])),
    );
    const verified = await licensekit([
      'verify',
      '--file',
      join(dir, 'app', 'license-state.token'),
      '--trust',
      root,
      '--product',
      'photon',
      '--device-key',
      join(dir, 'app', 'license-state.device.json'),
    ]);
    expect(verified.code).toBe(0);
    expect(verified.out).toContain('VALID: active');
  });

  test('refresh: not due yet (exit 0), then --force gets the next token of the lineage', async () => {
    const notDue = await licensekit(['refresh', '--state', state]);
    expect(notDue.code).toBe(0);
    // A day after activation: "in 1d" within the same second, "in 23h 59m" a moment later.
    expect(notDue.out).toMatch(/^Not due: the token asks to be refreshed from \S+ \(in (1d|2\dh)/);
    const before = readFileSync(join(dir, 'app', 'license-state.token'), 'utf8');
    const seqBefore = /\(seq (\d+)\)/.exec(notDue.out)?.[1];

    const forced = await licensekit(['refresh', '--state', state, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.out).toMatch(/^Refreshed: license lic_\S+, the new token is in /);
    expect(forced.out).toContain(`(seq ${Number(seqBefore) + 1})`);
    expect(readFileSync(join(dir, 'app', 'license-state.token'), 'utf8')).not.toBe(before);
    expectNoKey(notDue.out, forced.out, forced.err);
  });

  test('the store says no: unknown key (404), seats full (409), a mistyped key (usage)', async () => {
    const unknown = await licensekit([
      'activate',
      '--store',
      store.url,
      '--key',
      'LK-00000-00000-00000-00000-00000-00000-00',
      '--state',
      join(dir, 'other', 'state.json'),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/refused: no license .* has this key.*\(404 LICENSE_NOT_FOUND\)/);

    // Pro has two seats: this machine holds one, a second takes the other, a third is refused.
    // The key from standard input (kept out of the process list), the store from the environment.
    const second = await licensekit(
      ['activate', '--key', '-', '--state', join(dir, 'second', 'state.json')],
      { LICENSEKIT_STORE_URL: store.url },
      `${key}\n`,
    );
    expect(second.code).toBe(0);
    expect(second.out).toContain('VALID: active');
    const third = await licensekit([
      'activate',
      '--store',
      store.url,
      '--key',
      key,
      '--state',
      join(dir, 'third', 'state.json'),
    ]);
    expect(third.code).toBe(1);
    expect(third.err).toMatch(/every seat of this license is in use.*\/portal.*\(409 SEATS_FULL\)/);
    expect(third.err).not.toContain(key);

    const mistyped = await licensekit([
      'activate',
      '--store',
      store.url,
      '--key',
      key.slice(0, -2),
      '--state',
      join(dir, 'fourth', 'state.json'),
    ]);
    expect(mistyped.code).toBe(2);
    expect(mistyped.err).toMatch(/--key is not a license key/);
    expect(mistyped.err).not.toContain(key.slice(3, -2));
  });

  test('the store unreachable: exit 3, and the token held is kept', async () => {
    const before = readFileSync(join(dir, 'app', 'license-state.token'), 'utf8');
    await store.stop();
    const refreshed = await licensekit(['refresh', '--state', state, '--force']);
    expect(refreshed.code).toBe(3);
    expect(refreshed.err).toMatch(/cannot reach the store at http:\/\/127\.0\.0\.1:\d+/);
    expect(readFileSync(join(dir, 'app', 'license-state.token'), 'utf8')).toBe(before);

    const activated = await licensekit([
      'activate',
      '--store',
      store.url,
      '--key',
      key,
      '--state',
      join(dir, 'offline', 'state.json'),
    ]);
    expect(activated.code).toBe(3);
    expect(activated.err).not.toContain(key);
  });

  test('refresh before any activate: a usage error that says what to run', async () => {
    const never = await licensekit(['refresh', '--state', join(dir, 'never', 'state.json')]);
    expect(never.code).toBe(2);
    expect(never.err).toMatch(/activate first: licensekit activate --store URL --key KEY/);
  });
});

describe('a pretend store clock (serve --now) is for development only', () => {
  test('refused with NODE_ENV=production, saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'licensekit-now-'));
    try {
      const refused = await licensekit(
        ['serve', '--data', join(dir, 'store'), '--port', '0', '--now', '+2d'],
        { NODE_ENV: 'production' },
      );
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/pretend clock\) is for development and tests only/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
