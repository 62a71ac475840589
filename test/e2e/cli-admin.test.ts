import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';

/**
 * `licensekit admin …` against a real store on 127.0.0.1: the catalogue, a manual order
 * marked paid, a license revoked — each checked through the store's public API.
 */

const run = promisify(execFile);
const ADMIN_TOKEN = 'cli-admin-test-token';

describe('licensekit admin', () => {
  let store: RunningStore;
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-admin-'));

  async function licensekit(
    ...args: string[]
  ): Promise<{ code: number; out: string; err: string }> {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [join(repoRoot, 'packages/cli/bin/licensekit.mjs'), ...args],
        {
          env: {
            ...process.env,
            LICENSEKIT_STORE_URL: store.url,
            LICENSEKIT_ADMIN_TOKEN: ADMIN_TOKEN,
          },
        },
      );
      return { code: 0, out: stdout, err: stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout, err: failed.stderr };
    }
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

  test('products and plans', async () => {
    expect(
      await licensekit('admin', 'products', 'create', '--id', 'lumen', '--name', 'Lumen'),
    ).toMatchObject({
      code: 0,
      out: 'product lumen saved\n',
    });
    const plan = await licensekit(
      'admin',
      'plans',
      'create',
      '--product',
      'lumen',
      '--id',
      'pro',
      '--name',
      'Pro',
      '--price',
      '900',
      '--interval',
      'month',
      '--quota',
      'exports=100/month',
      '--feature',
      'raw,batch',
    );
    expect(plan).toMatchObject({ code: 0, out: 'plan lumen/pro saved\n' });
    const listed = await licensekit('admin', 'products', 'list');
    expect(listed.out).toContain('lumen  Lumen');
    expect(listed.out).toContain('pro  Pro  900 USD / month');
    const product = (await (await fetch(`${store.url}/v1/products/lumen`)).json()) as {
      plans: { quotas: unknown; entitlements: string[] }[];
    };
    expect(product.plans[0]).toMatchObject({
      quotas: { exports: { limit: 100, per: 'month' } },
      entitlements: ['raw', 'batch'],
    });
  });

  test('a manual order marked paid starts the license; a revoked license is refused', async () => {
    const checkout = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'cli-admin-manual-1' },
      body: JSON.stringify({
        productId: 'photon',
        planId: 'pro-monthly',
        email: 'grace@example.com',
        provider: 'manual',
      }),
    });
    expect(checkout.status).toBe(201);
    const { order, license } = (await checkout.json()) as {
      order: { id: string };
      license: { id: string; key: string };
    };
    const status = () =>
      fetch(`${store.url}/v1/licenses/status`, {
        headers: { authorization: `Bearer ${license.key}` },
      });
    expect((await status()).status).toBe(402);

    const pending = await licensekit('admin', 'orders', 'list', '--status', 'pending');
    expect(pending.out).toContain(order.id);
    expect(await licensekit('admin', 'orders', 'mark-paid', order.id)).toMatchObject({ code: 0 });
    expect((await status()).status).toBe(200);

    expect(
      (await licensekit('admin', 'licenses', 'list', '--email', 'grace@example.com')).out,
    ).toContain(license.id);
    expect(
      await licensekit('admin', 'licenses', 'revoke', license.id, '--reason', 'chargeback'),
    ).toMatchObject({ code: 0 });
    const refresh = await fetch(`${store.url}/v1/licenses/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${license.key}` },
      body: '{}',
    });
    expect(refresh.status).toBe(403);
  });

  test('a wrong token or an unreachable store is one line and exit 2', async () => {
    const wrong = await licensekit('admin', 'orders', 'list', '--token', 'not-the-token');
    expect(wrong.code).toBe(2);
    expect(wrong.err.trim().split('\n')).toHaveLength(1);
    expect(wrong.err).toContain('401 ADMIN_TOKEN_INVALID');
    const down = await licensekit('admin', 'orders', 'list', '--store', 'http://127.0.0.1:9');
    expect(down.code).toBe(2);
    expect(down.err).toContain('cannot reach the store');
  });
});
