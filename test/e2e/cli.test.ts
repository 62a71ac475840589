/**
 * End-to-end tests of the `licensekit` command: every test spawns the BUILT binary
 * (packages/cli/bin/licensekit.mjs, built by the global setup) as a fresh process in a
 * temporary directory, as a user or a script would. Times are pinned with --now.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/vectors.js';

const BIN = join(repoRoot, 'packages/cli/bin/licensekit.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function licensekit(cwd: string, args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, LICENSEKIT_DEBUG: '' },
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
    child.stdin.end(input ?? '');
  });
}

/** Runs and requires exit 0; returns stdout. */
async function ok(cwd: string, args: readonly string[], input?: string): Promise<string> {
  const run = await licensekit(cwd, args, input);
  if (run.code !== 0)
    throw new Error(`licensekit ${args.join(' ')} → exit ${run.code}\n${run.stderr}${run.stdout}`);
  return run.stdout;
}

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAY = 86_400;
const at = (seconds: number) => new Date(seconds * 1000).toISOString();

const temporaryDirs: string[] = [];
async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'licensekit-e2e-'));
  temporaryDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Root and issuer keys plus a certificate, as a vendor sets up once. */
async function vendor(dir: string, format: 'cwt' | 'jwt' = 'cwt'): Promise<void> {
  await ok(dir, ['keygen', '--out', 'root.json']);
  await ok(dir, ['keygen', '--out', 'issuer.json']);
  await ok(dir, [
    'cert',
    '--root',
    'root.json',
    '--issuer',
    'issuer.pub.json',
    '--products',
    'photon,other',
    '--days',
    '365',
    '--vendor',
    'acme',
    '--format',
    format,
    '--now',
    at(T0 - DAY),
    '--out',
    'issuer.cert',
  ]);
}

const PRO = [
  '--key',
  'issuer.json',
  '--cert',
  'issuer.cert',
  '--product',
  'photon',
  '--license',
  'lic_e2e',
  '--plan',
  'pro',
  '--days',
  '14',
  '--grace',
  '7d',
  '--refresh-after',
  '1d',
  '--quota',
  'exports=1000/month',
  '--seats',
  '3',
  '--feature',
  'export-pdf',
  '--feature',
  'batch,cloud-sync',
];
const TRUST = ['--trust', 'root.pub.json', '--product', 'photon'];

/** The bytes `prev` hashes: a JWT's ASCII, a CWT's raw COSE bytes (its text is base64url). */
function tokenHash(token: string): string {
  const bytes = token.includes('.') ? Buffer.from(token, 'ascii') : Buffer.from(token, 'base64url');
  return createHash('sha256').update(bytes).digest('base64url');
}

describe.each(['cwt', 'jwt'] as const)('keygen → cert → issue → verify → renew (%s)', (format) => {
  let dir: string;
  let token: string;
  beforeAll(async () => {
    dir = await workDir();
  });

  it('keygen writes a 0600 private key and a public key, and prints the kid alone', async () => {
    const run = await licensekit(dir, ['keygen', '--out', 'root.json']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect((await stat(join(dir, 'root.json'))).mode & 0o777).toBe(0o600);
    const publicKey = JSON.parse(await readFile(join(dir, 'root.pub.json'), 'utf8'));
    expect(publicKey).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: run.stdout.trim() });
    expect(publicKey).not.toHaveProperty('d');
    await ok(dir, ['keygen', '--out', 'issuer.json']);
    await ok(dir, [
      'cert',
      '--root',
      'root.json',
      '--issuer',
      'issuer.pub.json',
      '--products',
      'photon',
      '--days',
      '365',
      '--vendor',
      'acme',
      '--format',
      format,
      '--now',
      at(T0 - DAY),
      '--out',
      'issuer.cert',
    ]);
  });

  it('issue prints only the token', async () => {
    const stdout = await ok(dir, ['issue', ...PRO, '--format', format, '--now', at(T0)]);
    expect(stdout.endsWith('\n')).toBe(true);
    token = stdout.trim();
    expect(token).not.toMatch(/\s/);
    expect(token.includes('.')).toBe(format === 'jwt');
    await writeFile(join(dir, 'license.tok'), stdout);
  });

  it('verify: active, with a summary of plan, expiry, grace, quotas and entitlements (exit 0)', async () => {
    const run = await licensekit(dir, ['verify', token, ...TRUST, '--now', at(T0 + 3600)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^VALID: active/);
    expect(run.stdout).toMatch(/plan\s+pro \(full access\)/);
    expect(run.stdout).toContain(`expires        ${at(T0 + 14 * DAY).replace('.000Z', 'Z')}`);
    expect(run.stdout).toMatch(/grace ends\s+2026-01-22T00:00:00Z .*grace 7d/);
    expect(run.stdout).toMatch(/refresh after\s+2026-01-02T00:00:00Z/);
    expect(run.stdout).toMatch(
      /exports\s+0 used of 1000 per month, 1000 remaining, resets 2026-02-01T00:00:00Z/,
    );
    expect(run.stdout).toMatch(/seats\s+0 used of 3, 3 remaining, for the whole term/);
    expect(run.stdout).toMatch(/entitlements\s+export-pdf, batch, cloud-sync/);
    expect(run.stdout).toContain('set by --now');
  });

  it('verify --now in the grace period: grace, still valid (exit 0)', async () => {
    const run = await licensekit(dir, [
      'verify',
      '--file',
      'license.tok',
      ...TRUST,
      '--now',
      at(T0 + 16 * DAY),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^VALID: grace/);
  });

  it('verify --now after grace: expired (exit 1)', async () => {
    const run = await licensekit(dir, [
      'verify',
      '--file',
      'license.tok',
      ...TRUST,
      '--now',
      String(T0 + 22 * DAY),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT VALID: expired/);
    expect(run.stderr).toBe('');
  });

  it('verify --json prints the verify result', async () => {
    const run = await licensekit(
      dir,
      ['verify', '-', ...TRUST, '--now', at(T0 + 3600), '--json'],
      `${token}\n`,
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      valid: true,
      status: 'active',
      format,
      license: 'lic_e2e',
      product: 'photon',
      plan: 'pro',
      expiresAt: at(T0 + 14 * DAY),
      graceEndsAt: at(T0 + 21 * DAY),
      refreshAfter: at(T0 + DAY),
      entitlements: ['export-pdf', 'batch', 'cloud-sync'],
      quotas: {
        exports: { limit: 1000, used: 0, remaining: 1000, resetsAt: at(T0 + 31 * DAY) },
        seats: { limit: 3, used: 0, remaining: 3, resetsAt: null },
      },
      claims: {
        iss: 'acme',
        sub: 'lic_e2e',
        aud: 'photon',
        iat: T0,
        exp: T0 + 14 * DAY,
        grace: 7 * DAY,
        seq: 0,
      },
    });
  });

  it('verify without --product checks all but the product, and says so', async () => {
    const run = await licensekit(dir, [
      'verify',
      token,
      '--trust',
      'root.pub.json',
      '--now',
      at(T0 + 3600),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('photon (not checked: pass --product to require it)');
    const other = await licensekit(dir, [
      'verify',
      token,
      '--trust',
      'root.pub.json',
      '--product',
      'other',
      '--now',
      at(T0),
    ]);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^NOT VALID: wrong_product/);
  });

  it('inspect shows header, claims and the embedded certificate, marked UNVERIFIED', async () => {
    const run = await licensekit(dir, ['inspect', '--file', 'license.tok']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^UNVERIFIED/);
    expect(run.stdout).toMatch(/document\s+license \(/);
    expect(run.stdout).toMatch(/alg\s+EdDSA/);
    expect(run.stdout).toMatch(/sub\s+lic_e2e/);
    expect(run.stdout).toMatch(/exp\s+\d+ \(2026-01-15T00:00:00Z\)/);
    expect(run.stdout).toContain('embedded issuer certificate (UNVERIFIED)');
    expect(run.stdout).toMatch(/products\s+photon/);
    const described = JSON.parse(await ok(dir, ['inspect', token, '--json']));
    expect(described).toMatchObject({
      unverified: true,
      kind: 'license',
      format,
      certificate: { kind: 'certificate' },
    });
  });

  it('renew links the next token: seq + 1, prev = SHA-256 of the previous token, term extended', async () => {
    const next = (
      await ok(dir, [
        'renew',
        '--key',
        'issuer.json',
        '--file',
        'license.tok',
        '--days',
        '30',
        '--now',
        at(T0 + 10 * DAY),
      ])
    ).trim();
    await writeFile(join(dir, 'license2.tok'), `${next}\n`);
    const { claims } = JSON.parse(await ok(dir, ['inspect', next, '--json']));
    expect(claims).toMatchObject({
      sub: 'lic_e2e',
      seq: 1,
      prev: tokenHash(token),
      iat: T0 + 10 * DAY,
      // Early renewal extends from the end of the paid term, losing no day.
      exp: T0 + 44 * DAY,
      // The refresh interval (1 day) is kept, re-based on the renewal time.
      rfa: T0 + 11 * DAY,
      plan: 'pro',
      ent: ['export-pdf', 'batch', 'cloud-sync'],
    });
    expect(next.includes('.')).toBe(format === 'jwt');
    const run = await licensekit(dir, ['verify', next, ...TRUST, '--now', at(T0 + 20 * DAY)]);
    expect(run.stdout).toMatch(/^VALID: refresh_due/);
    const chain = await licensekit(dir, [
      'audit',
      'chain',
      '--trust',
      'root.pub.json',
      'license2.tok',
      'license.tok',
    ]);
    expect(chain.code).toBe(0);
    expect(chain.stdout).toMatch(/^ok {4}seq 0 {2}license\.tok/m);
    expect(chain.stdout).toMatch(/^ok {4}seq 1 {2}license2\.tok/m);
    expect(chain.stdout).toContain('chain OK: 2 token(s) of license lic_e2e');
  });
});

describe('quota, state, revocation, audits, device binding', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await workDir();
    await vendor(dir);
    // A 90-day term, so a second quota period fits in it; 3 exports a month.
    const small = PRO.map((arg) =>
      arg === 'exports=1000/month' ? 'exports=3/month' : arg === '14' ? '90' : arg,
    );
    await writeFile(join(dir, 'small.tok'), await ok(dir, ['issue', ...small, '--now', at(T0)]));
  });

  it('consume grants, then refuses at the limit (exit 1), across processes sharing the state file', async () => {
    const consume = (amount: string) =>
      licensekit(dir, [
        'consume',
        '--file',
        'small.tok',
        ...TRUST,
        '--quota',
        'exports',
        '--amount',
        amount,
        '--state',
        'quota.json',
        '--now',
        at(T0 + DAY),
      ]);
    const first = await consume('2');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^GRANTED: 2 exports\. 1 of 3 per month remaining, resets 2026-02-01T00:00:00Z/,
    );
    const refused = await consume('2');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /^REFUSED: not enough exports left for 2: 1 of 3 per month remaining, resets 2026-02-01T00:00:00Z/,
    );
    expect((await consume('1')).code).toBe(0);
    const empty = await licensekit(dir, [
      'consume',
      '--file',
      'small.tok',
      ...TRUST,
      '--quota',
      'exports',
      '--state',
      'quota.json',
      '--now',
      at(T0 + DAY),
      '--json',
    ]);
    expect(empty.code).toBe(1);
    expect(JSON.parse(empty.stdout)).toMatchObject({
      granted: false,
      reason: 'exhausted',
      remaining: 0,
      limit: 3,
      resetsAt: at(T0 + 31 * DAY),
    });
    expect((await stat(join(dir, 'quota.json'))).mode & 0o777).toBe(0o600);
    // A new period starts at zero.
    const nextMonth = await licensekit(dir, [
      'consume',
      '--file',
      'small.tok',
      ...TRUST,
      '--quota',
      'exports',
      '--state',
      'quota.json',
      '--now',
      at(T0 + 31 * DAY + 60),
    ]);
    expect(nextMonth.stdout).toMatch(/^GRANTED: 1 exports\. 2 of 3 per month remaining/);
    const unknown = await licensekit(dir, [
      'consume',
      '--file',
      'small.tok',
      ...TRUST,
      '--quota',
      'nope',
      '--state',
      'quota.json',
      '--now',
      at(T0 + 31 * DAY + 60),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('Its quotas: exports, seats.');
  });

  it('revoke + verify --revocations: revoked (exit 1); a list by an untrusted key is refused (exit 2)', async () => {
    await ok(dir, [
      'revoke',
      '--key',
      'root.json',
      '--vendor',
      'acme',
      '--license',
      'lic_e2e',
      '--next',
      '7d',
      '--now',
      at(T0),
      '--out',
      'revoked.cwt',
    ]);
    const run = await licensekit(dir, [
      'verify',
      '--file',
      'small.tok',
      ...TRUST,
      '--revocations',
      'revoked.cwt',
      '--now',
      at(T0 + DAY),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT VALID: revoked \(license_revoked\)/);
    const { claims } = JSON.parse(await ok(dir, ['inspect', '--file', 'revoked.cwt', '--json']));
    expect(claims).toMatchObject({
      iss: 'acme',
      seq: T0,
      licenses: ['lic_e2e'],
      next: T0 + 7 * DAY,
    });
    await ok(dir, ['keygen', '--out', 'stranger.json']);
    await ok(dir, [
      'revoke',
      '--key',
      'stranger.json',
      '--license',
      'lic_e2e',
      '--out',
      'forged.cwt',
    ]);
    const forged = await licensekit(dir, [
      'verify',
      '--file',
      'small.tok',
      ...TRUST,
      '--revocations',
      'forged.cwt',
    ]);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toMatch(/--revocations "forged\.cwt": it is not signed by a --trust key/);
  });

  it('verify --state detects a replayed older token (rolled_back)', async () => {
    const next = await ok(dir, [
      'renew',
      '--key',
      'issuer.json',
      '--file',
      'small.tok',
      '--days',
      '30',
      '--now',
      at(T0 + 2 * DAY),
    ]);
    await writeFile(join(dir, 'small2.tok'), next);
    const newer = await licensekit(dir, [
      'verify',
      '--file',
      'small2.tok',
      ...TRUST,
      '--state',
      'replay.json',
      '--now',
      at(T0 + 2 * DAY),
    ]);
    expect(newer.code).toBe(0);
    const replay = await licensekit(dir, [
      'verify',
      '--file',
      'small.tok',
      ...TRUST,
      '--state',
      'replay.json',
      '--now',
      at(T0 + 2 * DAY),
      '--json',
    ]);
    expect(replay.code).toBe(1);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      valid: false,
      status: 'rolled_back',
      reason: 'older_seq',
    });
    // Without the state the old token alone is still fine: the state is what remembers.
    expect(
      (
        await licensekit(dir, [
          'verify',
          '--file',
          'small.tok',
          ...TRUST,
          '--now',
          at(T0 + 2 * DAY),
        ])
      ).code,
    ).toBe(0);
  });

  it('verify --state detects a clock set back two days (clock_tampered)', async () => {
    const args = ['verify', '--file', 'small.tok', ...TRUST, '--state', 'clock.json'];
    expect((await licensekit(dir, [...args, '--now', at(T0 + 5 * DAY)])).code).toBe(0);
    const back = await licensekit(dir, [...args, '--now', at(T0 + 3 * DAY)]);
    expect(back.code).toBe(1);
    expect(back.stdout).toMatch(/^NOT VALID: clock_tampered/);
  });

  it('audit chain detects a broken link (exit 1)', async () => {
    // Two renewals of the same seq 0: a fork. seq 2 of one branch does not follow seq 1 of the other.
    await writeFile(
      join(dir, 'fork-a1.tok'),
      await ok(dir, [
        'renew',
        '--key',
        'issuer.json',
        '--file',
        'small.tok',
        '--now',
        at(T0 + DAY),
      ]),
    );
    await writeFile(
      join(dir, 'fork-b1.tok'),
      await ok(dir, [
        'renew',
        '--key',
        'issuer.json',
        '--file',
        'small.tok',
        '--now',
        at(T0 + DAY + 1),
      ]),
    );
    await writeFile(
      join(dir, 'fork-b2.tok'),
      await ok(dir, [
        'renew',
        '--key',
        'issuer.json',
        '--file',
        'fork-b1.tok',
        '--now',
        at(T0 + 2 * DAY),
      ]),
    );
    const good = await licensekit(dir, [
      'audit',
      'chain',
      '--trust',
      'root.pub.json',
      'small.tok',
      'fork-b1.tok',
      'fork-b2.tok',
    ]);
    expect(good.code).toBe(0);
    const broken = await licensekit(dir, [
      'audit',
      'chain',
      '--trust',
      'root.pub.json',
      'small.tok',
      'fork-a1.tok',
      'fork-b2.tok',
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      /^FAIL {2}seq 2 {2}fork-b2\.tok .*prev is not the hash of seq 1 \(fork-a1\.tok\)/m,
    );
    expect(broken.stdout).toContain('chain BROKEN: 1 of 3 token(s) fail');
    const gap = await licensekit(dir, [
      'audit',
      'chain',
      '--trust',
      'root.pub.json',
      'small.tok',
      'fork-b2.tok',
    ]);
    expect(gap.code).toBe(1);
    expect(gap.stdout).toContain('seq 2 follows seq 0: token(s) missing');
    const untrusted = await licensekit(dir, [
      'audit',
      'chain',
      '--trust',
      'issuer.pub.json',
      '--trust',
      'stranger.pub.json',
      'small.tok',
    ]);
    // Trusting the issuer key directly is enough; a stranger's key alone is not.
    expect(untrusted.code).toBe(0);
    const stranger = await licensekit(dir, [
      'audit',
      'chain',
      '--trust',
      'stranger.pub.json',
      'small.tok',
    ]);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toMatch(/FAIL .*untrusted_key/);
  });

  it('audit cert checks the root signature and flags expired certificates', async () => {
    const now = await licensekit(dir, [
      'audit',
      'cert',
      '--trust',
      'root.pub.json',
      'issuer.cert',
      '--now',
      at(T0),
    ]);
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(
      /^ok {4}issuer\.cert: vendor acme, key [\w-]{43}, products photon, other, valid 2025-12-31T00:00:00Z to 2026-12-31T00:00:00Z\n/,
    );
    const later = await licensekit(dir, [
      'audit',
      'cert',
      '--trust',
      'root.pub.json',
      'issuer.cert',
      '--now',
      at(T0 + 400 * DAY),
    ]);
    expect(later.code).toBe(0);
    expect(later.stdout).toContain('EXPIRED');
    const wrongRoot = await licensekit(dir, [
      'audit',
      'cert',
      '--trust',
      'stranger.pub.json',
      'issuer.cert',
    ]);
    expect(wrongRoot.code).toBe(1);
    expect(wrongRoot.stdout).toMatch(
      /FAIL {2}issuer\.cert: signed by [\w-]{43}, not a --trust root/,
    );
  });

  it('a bound license verifies on its device only', async () => {
    const thumbprint = (await ok(dir, ['keygen', '--out', 'device.json'])).trim();
    const bound = await ok(dir, [
      'issue',
      ...PRO,
      '--license',
      'lic_bound',
      '--bind',
      thumbprint,
      '--now',
      at(T0),
    ]);
    const here = await licensekit(dir, [
      'verify',
      bound.trim(),
      ...TRUST,
      '--device-key',
      'device.json',
      '--now',
      at(T0),
    ]);
    expect(here.code).toBe(0);
    expect(here.stdout).toContain(`bound to ${thumbprint}`);
    const elsewhere = await licensekit(dir, ['verify', bound.trim(), ...TRUST, '--now', at(T0)]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stdout).toMatch(/^NOT VALID: wrong_device/);
  });
});

describe('user mistakes: one line on stderr, exit 2, no stack trace, no key material', () => {
  let dir: string;
  let secrets: string[];
  beforeAll(async () => {
    dir = await workDir();
    await vendor(dir);
    await copyFile(join(dir, 'issuer.json'), join(dir, 'open.json'));
    await chmod(join(dir, 'open.json'), 0o644);
    secrets = await Promise.all(
      ['root.json', 'issuer.json'].map(
        async (file) => JSON.parse(await readFile(join(dir, file), 'utf8')).d as string,
      ),
    );
  });

  const cases: [string, string[], RegExp][] = [
    [
      'a missing token file',
      ['verify', '--file', 'nope.cwt', '--trust', 'root.pub.json'],
      /nope\.cwt does not exist/,
    ],
    [
      'a missing key file',
      ['issue', '--key', 'nope.json', '--product', 'p', '--license', 'l'],
      /nope\.json does not exist/,
    ],
    [
      'a bad --quota',
      [
        'issue',
        '--key',
        'issuer.json',
        '--product',
        'p',
        '--license',
        'l',
        '--quota',
        'exports=lots',
      ],
      /--quota "exports=lots" has no valid limit/,
    ],
    [
      'a bad --grace',
      [
        'issue',
        '--key',
        'issuer.json',
        '--product',
        'p',
        '--license',
        'l',
        '--days',
        '3',
        '--grace',
        '7',
      ],
      /--grace "7" needs a unit/,
    ],
    [
      'a bad --now',
      ['verify', 'x', '--trust', 'root.pub.json', '--now', 'tomorrow'],
      /--now "tomorrow" is not a time/,
    ],
    [
      'a key with mode 0644',
      ['issue', '--key', 'open.json', '--product', 'p', '--license', 'l'],
      /open\.json is readable by other users \(mode 0644\); run: chmod 600 open\.json/,
    ],
    [
      'a private key as --trust',
      ['verify', 'x', '--trust', 'root.json'],
      /--trust root\.json is a private key; .*give root\.pub\.json instead/,
    ],
    [
      'a public key as --key',
      ['issue', '--key', 'issuer.pub.json', '--product', 'p', '--license', 'l'],
      /--key issuer\.pub\.json is a public key; give the private key file/,
    ],
    [
      'a private key as --issuer',
      ['cert', '--root', 'root.json', '--issuer', 'issuer.json', '--products', 'p'],
      /contains a private key/,
    ],
    [
      'a garbage token to verify',
      ['verify', 'garbage!', '--trust', 'root.pub.json'],
      /the token is not a well-formed license/,
    ],
    ['a garbage token to inspect', ['inspect', 'AAAA'], /this is not a licensekit token/],
    [
      'a certificate as a license',
      ['verify', '--file', 'issuer.cert', '--trust', 'root.pub.json'],
      /wrong_type/,
    ],
    ['no --trust', ['verify', 'x'], /--trust KEY is required/],
    [
      'an unknown flag',
      ['verify', 'x', '--trust', 'root.pub.json', '--bogus'],
      /^licensekit verify: unknown option '--bogus' \(see licensekit verify --help\)$/,
    ],
    [
      'a missing required flag',
      ['issue', '--key', 'issuer.json', '--product', 'p'],
      /required option '--license <id>' not specified/,
    ],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    [
      'a certificate for another product',
      [
        'issue',
        '--key',
        'issuer.json',
        '--cert',
        'issuer.cert',
        '--product',
        'nope',
        '--license',
        'l',
      ],
      /--cert issuer\.cert: certificate does not cover product "nope"/,
    ],
    [
      'an existing key file',
      ['keygen', '--out', 'root.json'],
      /root\.json already exists; choose another --out, or pass --force/,
    ],
    [
      '--days with --exp',
      [
        'issue',
        '--key',
        'issuer.json',
        '--product',
        'p',
        '--license',
        'l',
        '--days',
        '3',
        '--exp',
        '2030-01-01',
      ],
      /not both/,
    ],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    const run = await licensekit(dir, args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at |Error:|internal error/);
    for (const secret of secrets) expect(run.stderr).not.toContain(secret);
  });
});

describe('licensekit demo', () => {
  it('runs the tour to completion, showing grace and expiry, and runs again in the same place', async () => {
    const dir = await workDir();
    const run = await licensekit(dir, ['demo', '--dir', 'tour']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\$ licensekit keygen --out root\.json/);
    expect(run.stdout).toMatch(
      /\$ licensekit issue --key issuer\.json --cert issuer\.cert .*--days 14 --grace 7d --refresh-after 1d --quota exports=1000\/month --seats 3/,
    );
    expect(run.stdout).toMatch(/VALID: active/);
    expect(run.stdout).toMatch(/VALID: grace/);
    expect(run.stdout).toMatch(/NOT VALID: expired/);
    expect(run.stdout).toMatch(/GRANTED: 5 exports/);
    expect(run.stdout).toMatch(/REFUSED: not enough exports left for 1000: 995 of 1000/);
    expect(run.stdout).toContain('Done.');
    const again = await licensekit(dir, ['demo', '--dir', 'tour']);
    expect(again.code).toBe(0);
  });

  it('never touches files it did not make', async () => {
    const dir = await workDir();
    await writeFile(join(dir, 'root.json'), 'mine');
    const run = await licensekit(dir, ['demo', '--dir', '.']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/already holds root\.json that the demo did not make/);
    expect(await readFile(join(dir, 'root.json'), 'utf8')).toBe('mine');
  });
});

describe('installation', () => {
  it('the workspace bin runs from the repository root (npx licensekit)', async () => {
    const run = await new Promise<Run>((resolve, reject) => {
      const child = spawn(join(repoRoot, 'node_modules/.bin/licensekit'), ['--version'], {
        cwd: repoRoot,
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('the verify path stays lean (cold start)', () => {
  it('verify loads the parser and its own bundle: no issuer, no CBOR encoder, no crypto in main', async () => {
    const dist = join(repoRoot, 'packages/cli/dist');
    const [main, verify, issue] = await Promise.all(
      ['licensekit.mjs', 'commands/verify.mjs', 'commands/issue.mjs'].map((file) =>
        readFile(join(dist, file), 'utf8'),
      ),
    );
    // Markers of core's CBOR encoder and of the issuer's issue(); the issue bundle has both.
    for (const marker of ['CBOR integers are at most 64 bits', 'is not a license claim']) {
      expect(issue).toContain(marker);
      expect(verify).not.toContain(marker);
      expect(main).not.toContain(marker);
    }
    expect(main).not.toContain('node:crypto');
    expect(main).toContain('import("./commands/verify.mjs")');
  });
});
