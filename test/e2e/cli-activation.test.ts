/**
 * `licensekit activation …` end to end: the BUILT binary spawned as fresh processes, as a
 * user would on two machines, against a real store on 127.0.0.1 (PGlite in a temporary
 * directory). The app machine writes a request (text and QR code) and later imports the
 * answer; the support desk turns the request into a response through the admin API. Then
 * a refresh carries the offline usage back, and damaged or foreign responses are refused
 * with exit 1 and nothing installed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';

const BIN = join(repoRoot, 'packages/cli/bin/licensekit.mjs');
const ADMIN_TOKEN = 'cli-activation-admin-token';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('licensekit activation request | respond | import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-activation-'));
  let store: RunningStore;
  let licenseKey: string;
  let licenseId: string;

  function licensekit(args: readonly string[], input = ''): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...process.env, LICENSEKIT_DEBUG: '', LICENSEKIT_ADMIN_TOKEN: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  /** The app machine's flags: the vendor's root key, the product, this device's key. */
  const APP = ['--trust', 'root.pub.json', '--product', 'photon', '--device-key', 'device.json'];
  const desk = () => ['--store', store.url, '--token', ADMIN_TOKEN, '--license', licenseId];

  beforeAll(async () => {
    store = await startStore(
      {
        port: 0,
        dataDir: join(dir, 'store'),
        seedDemo: true,
        adminToken: ADMIN_TOKEN,
        logger: false,
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      },
      false,
    );
    await writeFile(join(dir, 'root.pub.json'), JSON.stringify(store.rootPublicJwk));
    const bought = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'cli-activation-1' },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'ada@example.com',
      }),
    });
    expect(bought.status).toBe(201);
    const { license } = (await bought.json()) as { license: { key: string; id: string } };
    licenseKey = license.key;
    licenseId = license.id;
    expect((await licensekit(['keygen', '--out', 'device.json'])).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('activate: request (text and QR) → support desk → import → verify offline', async () => {
    const request = await licensekit([
      'activation',
      'request',
      ...APP,
      '--key',
      licenseKey,
      '--out',
      'request.txt',
      '--qr',
      'request.svg',
    ]);
    expect(request.code, request.stderr).toBe(0);
    expect(request.stderr).toContain('wrote the request to request.txt');
    expect(request.stderr).toContain('wrote its QR code to request.svg');
    expect(request.stderr).toMatch(/remembered in\s+device\.state\.json/);
    const text = (await readFile(join(dir, 'request.txt'), 'utf8')).trim();
    expect(text).toMatch(/^LK1-REQ\./);
    expect(text).not.toContain(licenseKey.replace(/-/g, '').slice(2, 12));
    expect(await readFile(join(dir, 'request.svg'), 'utf8')).toMatch(/^<svg/);
    expect((await stat(join(dir, 'request.txt'))).mode & 0o777).toBe(0o644);

    const respond = await licensekit([
      'activation',
      'respond',
      ...desk(),
      'request.txt',
      '--out',
      'response.txt',
    ]);
    expect(respond.code, respond.stderr).toBe(0);
    expect(respond.stderr).toContain(licenseId);
    expect((await readFile(join(dir, 'response.txt'), 'utf8')).trim()).toMatch(/^LK1-RES\./);

    const imported = await licensekit([
      'activation',
      'import',
      ...APP,
      'response.txt',
      '--out',
      'license.token',
    ]);
    expect(imported.code, imported.stdout + imported.stderr).toBe(0);
    expect(imported.stdout).toContain('INSTALLED: the activation answer.');
    expect(imported.stdout).toMatch(/VALID: (trial|active)/);
    expect(imported.stdout).toContain('bound to');

    const verified = await licensekit([
      'verify',
      '--file',
      'license.token',
      '--trust',
      'root.pub.json',
      '--product',
      'photon',
      '--device-key',
      'device.json',
      '--state',
      'device.state.json',
    ]);
    expect(verified.code, verified.stdout).toBe(0);

    // The same response again: answered already, nothing installed.
    const again = await licensekit(
      ['activation', 'import', ...APP, '-'],
      await readFile(join(dir, 'response.txt'), 'utf8'),
    );
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('NOT INSTALLED: not_our_request');
  });

  test('refresh: usage spent offline goes back with the request and the store records it', async () => {
    const spent = await licensekit([
      'consume',
      '--file',
      'license.token',
      '--trust',
      'root.pub.json',
      '--product',
      'photon',
      '--device-key',
      'device.json',
      '--state',
      'device.state.json',
      '--quota',
      'exports',
      '--amount',
      '3',
    ]);
    expect(spent.code, spent.stdout).toBe(0);

    const request = await licensekit([
      'activation',
      'request',
      ...APP,
      '--token',
      'license.token',
      '--usage',
    ]);
    expect(request.code, request.stderr).toBe(0);
    expect(request.stderr).toMatch(/request\s+refresh for photon/);
    expect(request.stderr).toMatch(/usage\s+exports 3/);
    // No --out: the text alone on stdout, ready for a pipe.
    const respond = await licensekit(['activation', 'respond', ...desk(), '-'], request.stdout);
    expect(respond.code, respond.stderr).toBe(0);
    expect(respond.stderr).toMatch(/usage\s+recorded/);

    const imported = await licensekit(['activation', 'import', ...APP, '-'], respond.stdout);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain('INSTALLED: the refresh answer.');
    const token = imported.stdout.trim();
    await writeFile(join(dir, 'refreshed.token'), token);

    // The old token is now rolled back; the store shows the usage the device reported.
    const old = await licensekit([
      'verify',
      '--file',
      'license.token',
      '--trust',
      'root.pub.json',
      '--product',
      'photon',
      '--device-key',
      'device.json',
      '--state',
      'device.state.json',
    ]);
    expect(old.code).toBe(1);
    expect(old.stdout).toContain('rolled_back');
    const quotas = await fetch(`${store.url}/v1/licenses/quotas`, {
      headers: { authorization: `Bearer ${licenseKey}` },
    });
    expect(JSON.stringify(await quotas.json())).toMatch(/"exports":\{[^}]*"used":3\b/);
  });

  test('damaged or foreign answers: exit 1, nothing installed', async () => {
    await licensekit(['activation', 'request', ...APP, '--key', licenseKey, '--out', 'r3.txt']);
    const respond = await licensekit(['activation', 'respond', ...desk(), 'r3.txt']);
    expect(respond.code, respond.stderr).toBe(0);
    const response = respond.stdout.trim();
    const stateBefore = await readFile(join(dir, 'device.state.json'), 'utf8');

    const mistyped = `${response.slice(0, 30)}${response[30] === 'A' ? 'B' : 'A'}${response.slice(31)}`;
    const typo = await licensekit(['activation', 'import', ...APP, '-'], mistyped);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toContain('NOT INSTALLED: bad_checksum');

    const pasted = await licensekit(['activation', 'import', ...APP, 'r3.txt']);
    expect(pasted.code).toBe(1);
    expect(pasted.stdout).toContain('NOT INSTALLED: wrong_type');

    // Another machine (its own device key and state) never made this request.
    expect((await licensekit(['keygen', '--out', 'other.json'])).code).toBe(0);
    const other = await licensekit(
      [
        'activation',
        'import',
        '--trust',
        'root.pub.json',
        '--product',
        'photon',
        '--device-key',
        'other.json',
        '-',
      ],
      response,
    );
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('NOT INSTALLED: not_our_request');
    expect(await readFile(join(dir, 'device.state.json'), 'utf8')).toBe(stateBefore);

    // The desk is told at once when the file is not a request.
    await writeFile(join(dir, 'junk.txt'), 'LK1-REQ.abc.def\n');
    const junk = await licensekit(['activation', 'respond', ...desk(), 'junk.txt']);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('junk.txt is not an offline request');
    // And the usage errors of request.
    expect((await licensekit(['activation', 'request', ...APP])).code).toBe(2);
    expect(
      (await licensekit(['activation', 'request', ...APP, '--key', licenseKey, '--qr', 'x.gif']))
        .code,
    ).toBe(2);
  });
});
