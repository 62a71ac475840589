import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningStore } from '../../../store/src/server.js';
import { startStore } from '../../../store/src/server.js';
import { vendorIdFrom } from './admin-marketplace.js';

/**
 * `licensekit admin vendors …` and `licensekit admin payouts …` as a user types them: the
 * built CLI in a child process against a real store started in this process on
 * 127.0.0.1 (PGlite), with effects checked through the store's admin API.
 */

const run = promisify(execFile);
const ADMIN_TOKEN = 'cli-marketplace-test-token';
const BIN = join(import.meta.dirname, '../../bin/licensekit.mjs');

// Each command is a child process (a second or so on a busy machine).
describe('licensekit admin vendors and payouts', { timeout: 120_000 }, () => {
  let store: RunningStore;
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-cli-marketplace-'));

  async function licensekit(
    args: string[],
    env: Record<string, string | undefined> = {},
  ): Promise<{ code: number; out: string; err: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
        env: {
          ...process.env,
          LICENSEKIT_STORE_URL: store.url,
          LICENSEKIT_ADMIN_TOKEN: ADMIN_TOKEN,
          ...env,
        },
      });
      return { code: 0, out: stdout, err: stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout, err: failed.stderr };
    }
  }

  async function api(method: string, path: string, body?: unknown, headers = {}) {
    const response = await fetch(`${store.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      json: (await response.json()) as { payouts?: unknown[]; [member: string]: unknown },
    };
  }

  async function buy(): Promise<string> {
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

  beforeAll(async () => {
    store = await startStore(
      {
        port: 0,
        dataDir: join(dir, 'store'),
        seedDemo: true,
        adminToken: ADMIN_TOKEN,
        logger: false,
      },
      false,
    );
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('vendor ids from names', () => {
    expect(vendorIdFrom('Acme Tools, Inc.')).toBe('acme-tools-inc');
    expect(vendorIdFrom('  Ünïcode   Déjà  ')).toBe('unicode-deja');
    expect(() => vendorIdFrom('!!!')).toThrow(/pass --id/);
    expect(vendorIdFrom('x'.repeat(80))).toHaveLength(63);
  });

  test('vendors: create with defaults and terms, list, refusals', async () => {
    const acme = await licensekit(['admin', 'vendors', 'create', '--name', 'Acme Tools, Inc.']);
    expect(acme).toMatchObject({
      code: 0,
      out: 'vendor acme-tools-inc created: Acme Tools, Inc., share 75.00 % (7500 bps) to the vendor, payout hold 22 business days\n',
    });
    const quick = await licensekit([
      'admin',
      'vendors',
      'create',
      '--name',
      'Quick Payouts',
      '--id',
      'quick',
      '--share-bps',
      '8000',
      '--hold-days',
      '0',
      '--json',
    ]);
    expect(quick.code).toBe(0);
    expect(JSON.parse(quick.out)).toMatchObject({ id: 'quick', shareBps: 8000, holdDays: 0 });

    const list = await licensekit(['admin', 'vendors', 'list']);
    expect(list.code).toBe(0);
    expect(list.out).toContain('acme-tools-inc  Acme Tools, Inc.  share 7500 bps  hold 22');
    expect(list.out).toContain('quick  Quick Payouts  share 8000 bps  hold 0');
    const json = JSON.parse((await licensekit(['admin', 'vendors', 'list', '--json'])).out);
    expect(json.vendors.map((v: { id: string }) => v.id)).toEqual(
      expect.arrayContaining(['acme-tools-inc', 'quick']),
    );

    // Usage errors: exit 2, one line on stderr, nothing sent.
    for (const args of [
      ['--name', 'x', '--share-bps', '10001'],
      ['--name', 'x', '--share-bps', '75.5'],
      ['--name', 'x', '--hold-days', '-1'],
      ['--name', 'x', '--id', 'Not An Id'],
      ['--name', '!!!'],
    ]) {
      const refused = await licensekit(['admin', 'vendors', 'create', ...args]);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.err.trim().split('\n')).toHaveLength(1);
    }
    // The store's refusal: its code and message, exit 2.
    const taken = await licensekit([
      'admin',
      'vendors',
      'create',
      '--name',
      'Quick',
      '--id',
      'quick',
    ]);
    expect(taken.code).toBe(2);
    expect(taken.err).toContain('409 CONFLICT');
    // A wrong token and an unreachable store are said so.
    const wrong = await licensekit(['admin', 'vendors', 'list'], {
      LICENSEKIT_ADMIN_TOKEN: 'nope',
    });
    expect(wrong.err).toContain('401 ADMIN_TOKEN_INVALID');
    const away = await licensekit(['admin', 'vendors', 'list', '--store', 'http://127.0.0.1:9']);
    expect(away.code).toBe(2);
    expect(away.err).toContain('cannot reach the store');
  });

  test('vendor tokens: create, use on the admin API scoped to the vendor, list, revoke', async () => {
    expect(
      (await licensekit(['admin', 'vendors', 'create', '--name', 'Token Works', '--id', 'tokco']))
        .code,
    ).toBe(0);
    const created = await licensekit([
      'admin',
      'vendors',
      'tokens',
      'create',
      'tokco',
      '--label',
      'ci deploys',
    ]);
    expect(created.code).toBe(0);
    // The token alone on stdout, the warning on stderr.
    expect(created.out).toMatch(/^lkv_[A-Za-z0-9_-]+\n$/);
    const token = created.out.trim();
    expect(created.err).toMatch(/^vendor token vtk_\S+ for tokco: shown this once.*hash/);
    const tokenId = /(vtk_\S+)/.exec(created.err)![1]!;

    // It is a vendor token: a product it makes is its own, and the product list holds only
    // its products, while the operator sees the seeded ones too.
    const asVendor = { authorization: `Bearer ${token}` };
    expect(
      (await api('POST', '/v1/admin/products', { id: 'tokco-app', name: 'Tok App' }, asVendor))
        .status,
    ).toBe(201);
    const ids = (reply: { json: { [member: string]: unknown } }) =>
      (reply.json.products as { id: string }[]).map((product) => product.id);
    expect(ids(await api('GET', '/v1/admin/products', undefined, asVendor))).toEqual(['tokco-app']);
    expect(ids(await api('GET', '/v1/admin/products'))).toEqual(
      expect.arrayContaining(['tokco-app', 'photon']),
    );
    // The CLI itself works with it, and vendors stays the operator's.
    const mine = await licensekit(['admin', 'products', 'list', '--json'], {
      LICENSEKIT_ADMIN_TOKEN: token,
    });
    expect(mine.code).toBe(0);
    expect(JSON.stringify(JSON.parse(mine.out))).not.toContain('photon');
    const forbidden = await licensekit(['admin', 'vendors', 'list'], {
      LICENSEKIT_ADMIN_TOKEN: token,
    });
    expect(forbidden).toMatchObject({ code: 2 });
    expect(forbidden.err).toContain('403 VENDOR_FORBIDDEN');

    const list = await licensekit(['admin', 'vendors', 'tokens', 'list', 'tokco']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`^${tokenId}  ci deploys  created \\S+  active\n$`));
    expect(list.out).not.toContain(token);

    const revoked = await licensekit([
      'admin',
      'vendors',
      'tokens',
      'revoke',
      'tokco',
      tokenId,
      '--json',
    ]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.out)).toMatchObject({ id: tokenId, vendorId: 'tokco' });
    expect(JSON.parse(revoked.out).revokedAt).toEqual(expect.any(String));
    expect((await api('GET', '/v1/admin/products', undefined, asVendor)).status).toBe(401);
    const listed = JSON.parse(
      (await licensekit(['admin', 'vendors', 'tokens', 'list', 'tokco', '--json'])).out,
    );
    expect(listed.tokens).toHaveLength(1);
    expect(listed.tokens[0].revokedAt).toEqual(expect.any(String));

    // Refusals: bad ids before anything is sent, the store's own 404s after.
    for (const args of [
      ['create', 'Not A Vendor'],
      ['create', 'tokco', '--label', 'x'.repeat(201)],
      ['revoke', 'tokco', 'not-a-token'],
    ]) {
      const refused = await licensekit(['admin', 'vendors', 'tokens', ...args]);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.err.trim().split('\n')).toHaveLength(1);
    }
    const noVendor = await licensekit(['admin', 'vendors', 'tokens', 'list', 'nobody']);
    expect(noVendor.code).toBe(2);
    expect(noVendor.err).toContain('404 VENDOR_NOT_FOUND');
    const noToken = await licensekit(['admin', 'vendors', 'tokens', 'revoke', 'tokco', 'vtk_none']);
    expect(noToken.err).toContain('404 NOT_FOUND');
  });

  test('payouts: dry run, run, show as text, JSON and CSV, confirm; a refund carries forward', async () => {
    expect(
      (await api('PUT', '/v1/admin/products/photon/vendor', { vendorId: 'quick' })).status,
    ).toBe(200);
    const orders = [await buy(), await buy()];
    // The seeded pro-monthly plan costs 1500; quick keeps 80 %: 1200 per order.
    const dry = await licensekit(['admin', 'payouts', 'run', '--dry-run', '--vendor', 'quick']);
    expect(dry).toMatchObject({
      code: 0,
      out: 'dry run: a payout run now would pay\n  quick  2400 USD (test)\n',
    });
    // A dry run changes nothing.
    expect((await api('GET', '/v1/admin/payouts?vendorId=quick')).json.payouts).toEqual([]);

    const made = await licensekit(['admin', 'payouts', 'run', '--json']);
    expect(made.code).toBe(0);
    const runAnswer = JSON.parse(made.out);
    const payout = runAnswer.payouts.find((p: { vendorId: string }) => p.vendorId === 'quick');
    expect(payout).toMatchObject({ amount: 2400, currency: 'USD', status: 'pending' });

    const again = await licensekit(['admin', 'payouts', 'run']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('no payout made');

    const shown = await licensekit(['admin', 'payouts', 'show', payout.id]);
    expect(shown.code).toBe(0);
    const lines = shown.out.trim().split('\n');
    expect(lines[0]).toBe(`${payout.id}  quick  2400 USD (test)  pending`);
    expect(lines.filter((line) => line.includes('  payment  '))).toHaveLength(2);
    for (const order of orders) expect(shown.out).toContain(order);
    expect(lines.at(-1)).toBe('  total 2400 USD');

    const json = JSON.parse(
      (await licensekit(['admin', 'payouts', 'show', payout.id, '--format', 'json'])).out,
    );
    expect(json.payout.id).toBe(payout.id);
    expect(json.lines).toHaveLength(2);
    const csv = await licensekit(['admin', 'payouts', 'show', payout.id, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const rows = csv.out.trim().split('\r\n');
    expect(rows[0]).toBe('payout,vendor,currency,order,kind,amount_minor,booked_at,document');
    expect(rows.slice(1).map((row) => row.split(',')[5])).toEqual(['1200', '1200']);
    expect(
      (await licensekit(['admin', 'payouts', 'show', payout.id, '--format', 'xml'])).code,
    ).toBe(2);
    expect((await licensekit(['admin', 'payouts', 'show', 'nope'])).code).toBe(2);
    const missing = await licensekit(['admin', 'payouts', 'show', 'po_missing']);
    expect(missing.err).toContain('404 PAYOUT_NOT_FOUND');

    const confirmed = await licensekit([
      'admin',
      'payouts',
      'confirm',
      payout.id,
      '--reference',
      'wire 7',
    ]);
    expect(confirmed).toMatchObject({
      code: 0,
      out: `payout ${payout.id} is paid: 2400 USD (test) to quick (reference wire 7)\n`,
    });
    // Idempotent: the first reference stays.
    const twice = await licensekit(['admin', 'payouts', 'confirm', payout.id, '--json']);
    expect(JSON.parse(twice.out)).toMatchObject({ status: 'paid', reference: 'wire 7' });

    // A refund after the payout: the vendor owes its share back, carried into the next run.
    const refund = await api('POST', `/v1/admin/orders/${orders[0]}/refunds`, {
      amount: 1000,
      reason: 'partly',
    });
    expect(refund.status).toBe(201);
    const preview = await licensekit(['admin', 'payouts', 'run', '--dry-run', '--vendor', 'quick']);
    expect(preview.out).toBe(
      'dry run: no balance is due\ncarried forward: quick owes 800 USD (test) (refunds after a payout; taken from its next payout)\n',
    );
    const carried = await licensekit(['admin', 'payouts', 'run', '--vendor', 'quick']);
    expect(carried.out).toContain('carried forward: quick owes 800 USD (test)');
    // The next sale pays its share minus what was carried.
    await buy();
    const next = JSON.parse((await licensekit(['admin', 'payouts', 'run', '--json'])).out);
    expect(next.payouts.find((p: { vendorId: string }) => p.vendorId === 'quick').amount).toBe(
      1200 - 800,
    );
  });
});
