/**
 * Auditable issuance from the command line, against a real store on 127.0.0.1: a license
 * bought at the store, its proof fetched with `licensekit log proof`, and `licensekit verify
 * --log-key` accepting it only with that proof. The BUILT binary, spawned as a user would.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatVerifierKey, noteVerifierKey } from '../../packages/core/src/log/index.js';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';

const run = promisify(execFile);
const BIN = join(repoRoot, 'packages/cli/bin/licensekit.mjs');

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('licensekit log proof and verify --log-key', () => {
  let store: RunningStore;
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-log-proof-'));
  let logKey: string;
  let token: string;

  async function licensekit(...args: string[]): Promise<Run> {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...process.env, LICENSEKIT_STORE_URL: store.url, LICENSEKIT_DEBUG: '' },
      });
      return { code: 0, out: stdout, err: stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout, err: failed.stderr };
    }
  }

  const VERIFY = ['verify', '--file', 'license.token', '--trust', 'root.pub.json'];

  beforeAll(async () => {
    store = await startStore(
      { port: 0, dataDir: join(dir, 'store'), seedDemo: true, logger: false },
      false,
    );
    const bought = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'log@example.com',
      }),
    });
    expect(bought.status).toBe(201);
    token = ((await bought.json()) as { license: { token: string } }).license.token;
    await writeFile(join(dir, 'license.token'), `${token}\n`);
    await writeFile(join(dir, 'root.pub.json'), JSON.stringify(store.rootPublicJwk));
    const keys = (await (await fetch(`${store.url}/v1/keys`)).json()) as { log: { key: string } };
    logKey = keys.log.key;
    await writeFile(join(dir, 'log.keys'), `# the store's log key\n\n${logKey}\n`);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('buy, fetch the proof, verify with --log-key: exit 0', async () => {
    const fetched = await licensekit(
      'log',
      'proof',
      '--file',
      'license.token',
      '--out',
      'proof.json',
    );
    expect(fetched, fetched.err).toMatchObject({ code: 0, out: '' });
    expect(fetched.err).toContain('wrote the log proof to proof.json');
    expect(fetched.err).toMatch(/entry \d+ of \d+ in \S+; not checked/);
    const proof = JSON.parse(await readFile(join(dir, 'proof.json'), 'utf8'));
    expect(Object.keys(proof).sort()).toEqual([
      'checkpoint',
      'inclusion',
      'index',
      'kind',
      'treeSize',
    ]);
    expect(proof.kind).toBe('license');

    const verified = await licensekit(
      ...VERIFY,
      '--product',
      'photon',
      '--log-key',
      logKey,
      '--log-proof',
      'proof.json',
    );
    expect(verified, verified.err).toMatchObject({ code: 0, err: '' });
    expect(verified.out).toMatch(/^VALID: active/);
    expect(verified.out).toMatch(/issuance log +logged: the proof checks against --log-key/);
  });

  test('--log-key from a file (@FILE or a path), and log proof checking first: on standard output', async () => {
    for (const keyFlag of ['@log.keys', 'log.keys']) {
      const fetched = await licensekit(
        'log',
        'proof',
        '--file',
        'license.token',
        '--log-key',
        keyFlag,
      );
      expect(fetched, fetched.err).toMatchObject({ code: 0 });
      expect(fetched.err).toContain('checked against --log-key');
      await writeFile(join(dir, 'proof-stdout.json'), fetched.out);
      const verified = await licensekit(
        ...VERIFY,
        '--log-key',
        keyFlag,
        '--log-proof',
        'proof-stdout.json',
        '--json',
      );
      expect(verified.code, verified.err).toBe(0);
      expect(JSON.parse(verified.out)).toMatchObject({ valid: true, status: 'active' });
    }
  });

  test('without a proof: not_logged, exit 1, and how to get one', async () => {
    const result = await licensekit(...VERIFY, '--product', 'photon', '--log-key', logKey);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^NOT VALID: not_logged \(log_proof_missing\)\. /);
    expect(result.out).toContain('licensekit log proof --store URL');
    const json = await licensekit(...VERIFY, '--log-key', logKey, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({
      valid: false,
      status: 'not_logged',
      reason: 'log_proof_missing',
    });
    // Without --log-key nothing is required: the same token is valid.
    expect((await licensekit(...VERIFY)).code).toBe(0);
  });

  test('a damaged or foreign proof: not_logged, exit 1', async () => {
    const proof = JSON.parse(await readFile(join(dir, 'proof.json'), 'utf8'));
    const cases: [string, string, string][] = [
      ['truncated.json', JSON.stringify(proof).slice(0, 50), 'log_proof_invalid'],
      ['garbage.json', 'not a proof', 'log_proof_invalid'],
      [
        'moved.json',
        JSON.stringify({ ...proof, index: proof.index + 1, treeSize: proof.treeSize }),
        '',
      ],
    ];
    for (const [file, text, reason] of cases) {
      await writeFile(join(dir, file), text);
      const result = await licensekit(
        ...VERIFY,
        '--log-key',
        logKey,
        '--log-proof',
        file,
        '--json',
      );
      expect(result.code, `${file}: ${result.err}`).toBe(1);
      const parsed = JSON.parse(result.out);
      expect(parsed.status).toBe('not_logged');
      if (reason) expect(parsed.reason).toBe(reason);
    }
    // A well-formed key of another log: the store's checkpoint is not signed by it.
    const origin = logKey.slice(0, logKey.indexOf('+'));
    const stranger = formatVerifierKey(await noteVerifierKey(origin, randomBytes(32)));
    const foreign = await licensekit(...VERIFY, '--log-key', stranger, '--log-proof', 'proof.json');
    expect(foreign.code).toBe(1);
    expect(foreign.out).toMatch(/^NOT VALID: not_logged \(log_key_untrusted\)/);
    // A key edited by hand (renamed): its key ID no longer matches, a usage error.
    const renamed = logKey.replace(/^[^+]+/, 'other.example/log');
    const edited = await licensekit(...VERIFY, '--log-key', renamed, '--log-proof', 'proof.json');
    expect(edited.code).toBe(2);
    expect(edited.err).toMatch(/^licensekit: --log-key .* is not a log verifier key/);
  });

  test('usage errors: --log-proof without --log-key, a bad key, a missing proof file (exit 2)', async () => {
    const noKey = await licensekit(...VERIFY, '--log-proof', 'proof.json');
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/^licensekit: --log-proof needs --log-key/);
    expect(noKey.err.trim().split('\n')).toHaveLength(1);
    const badKey = await licensekit(...VERIFY, '--log-key', 'store+12345678+AAAA');
    expect(badKey.code).toBe(2);
    expect(badKey.err).toMatch(/is not a log verifier key/);
    const missing = await licensekit(...VERIFY, '--log-key', logKey, '--log-proof', 'nope.json');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.json does not exist/);
    const noFile = await licensekit(...VERIFY, '--log-key', '@nope.keys');
    expect(noFile.code).toBe(2);
  });

  test('log proof of a token this store never issued: exit 1, nothing written', async () => {
    await licensekit('keygen', '--out', 'issuer.json');
    const issued = await licensekit(
      'issue',
      '--key',
      'issuer.json',
      '--product',
      'photon',
      '--license',
      'lic_local',
      '--days',
      '30',
      '--out',
      'local.token',
    );
    expect(issued.code, issued.err).toBe(0);
    const result = await licensekit(
      'log',
      'proof',
      '--file',
      'local.token',
      '--out',
      'local-proof.json',
    );
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/has no entry for this license/);
    await expect(readFile(join(dir, 'local-proof.json'))).rejects.toThrow();
    const unreachable = await licensekit(
      'log',
      'proof',
      '--file',
      'license.token',
      '--store',
      'http://127.0.0.1:9',
    );
    expect(unreachable.code).toBe(2);
    expect(unreachable.err).toMatch(/cannot reach the store/);
  });
});
