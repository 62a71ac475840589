/**
 * Quotas with two real `licensekit serve` processes on one PostgreSQL database (issue 8,
 * "Concurrency"): parallel metered downloads split across both instances never spend a
 * pack past its limit — exactly `limit` files are served, the rest get 403
 * QUOTA_EXHAUSTED, and a file served is served again on either instance (its grant) — and parallel usage reports from many devices, split across both,
 * add up to exactly what the devices reported (none lost to a race, none counted twice).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ScratchDatabase } from '../../packages/store/src/db/scratch.js';
import { createScratchDatabase } from '../../packages/store/src/db/scratch.js';
import { type Answer, inBatches, StoreClient } from './support/store-client.js';
import {
  killStoreProcesses,
  postgresAdminUrl,
  postgresUnavailable,
  type StoreProcess,
  startStoreProcess,
} from './support/store-process.js';

const ADMIN_TOKEN = 'quota-two-instances-admin';
const DOWNLOAD_LIMIT = 50; // the demo pack-50 plan
const FILES = 60;
const DEVICES = 24;
const USED_PER_DEVICE = 70;

describe.skipIf(postgresUnavailable)('quotas with two store processes on one PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-quota2-'));
  let database: ScratchDatabase;
  let clients: [StoreClient, StoreClient];

  beforeAll(async () => {
    database = await createScratchDatabase(postgresAdminUrl!, 'lk_quota2');
    const start = () =>
      startStoreProcess({
        dataDir,
        adminToken: ADMIN_TOKEN,
        databaseUrl: database.url,
        env: { LICENSEKIT_WEBHOOK_POLL_MS: '60000' },
      });
    // One after the other: the first start generates the keys and catalogue both share.
    const first: StoreProcess = await start();
    const second: StoreProcess = await start();
    clients = [new StoreClient(first.url, ADMIN_TOKEN), new StoreClient(second.url, ADMIN_TOKEN)];
  }, 120_000);

  afterAll(async () => {
    await killStoreProcesses();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function buy(planId: string, productId: string): Promise<{ key: string; id: string }> {
    const answer = await clients[0].checkout({
      productId,
      planId,
      email: `${randomUUID()}@example.com`,
    });
    expect(answer?.status, JSON.stringify(answer?.body)).toBe(201);
    return (answer!.body as { license: { key: string; id: string } }).license;
  }

  const quotas = async (client: StoreClient, key: string) => {
    const answer = await client.send('GET', '/v1/licenses/quotas', {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(answer?.status).toBe(200);
    return (answer!.body as { quotas: Record<string, Record<string, unknown>> }).quotas;
  };

  test(`${FILES} metered files downloaded at once over both instances: exactly ${DOWNLOAD_LIMIT} served`, async () => {
    // One unit per file a license downloads (a grant covers the file's further requests):
    // more files than the pack holds, each asked for twice, once from each instance.
    const { key } = await buy('pack-50', 'photon-presets');
    mkdirSync(join(dataDir, 'files', 'pack'), { recursive: true });
    const ids: string[] = [];
    for (let i = 0; i < FILES; i++) {
      writeFileSync(join(dataDir, 'files', 'pack', `preset-${i}.json`), `{"preset":${i}}`);
      const registered = await clients[(i % 2) as 0 | 1].admin('POST', '/v1/admin/attachments', {
        productId: 'photon-presets',
        name: `preset-${i}.json`,
        path: `pack/preset-${i}.json`,
        quota: 'downloads',
      });
      expect(registered?.status, JSON.stringify(registered?.body)).toBe(201);
      ids.push((registered!.body as { id: string }).id);
    }
    const requests = ids.flatMap((id) => [0, 1].map((instance) => ({ id, instance })));
    const answers: { id: string; answer: Answer }[] = [];
    await inBatches(requests, 32, async ({ id, instance }) => {
      const answer = await clients[instance as 0 | 1].send('GET', `/v1/attachments/${id}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      answers.push({ id, answer: answer! });
    });
    const served = new Set(answers.filter((a) => a.answer.status === 200).map((a) => a.id));
    const refused = answers.filter((a) => a.answer.status === 403);
    expect(served.size).toBe(DOWNLOAD_LIMIT);
    for (const { id, answer } of refused) {
      expect(answer.body).toMatchObject({ error: { code: 'QUOTA_EXHAUSTED' } });
      expect(served.has(id)).toBe(false);
    }
    expect(answers.filter((a) => a.answer.status !== 200 && a.answer.status !== 403)).toEqual([]);
    // Every request for a file that was served was served (the grant), on either instance.
    expect(refused).toHaveLength(2 * (FILES - DOWNLOAD_LIMIT));
    for (const client of clients) {
      expect((await quotas(client, key)).downloads).toMatchObject({
        used: DOWNLOAD_LIMIT,
        remaining: 0,
      });
    }
  }, 120_000);

  test(`usage reports of ${DEVICES} devices at once over both instances add up exactly`, async () => {
    const { key, id } = await buy('pro-monthly', 'photon');
    const before = (await quotas(clients[0], key)).exports!;
    const window = Math.floor(Date.parse(before.windowStart as string) / 1000);
    const answers: Answer[] = [];
    await inBatches(
      Array.from({ length: DEVICES }, (_, i) => i),
      DEVICES,
      async (i) => {
        const answer = await clients[(i % 2) as 0 | 1].send('POST', '/v1/licenses/usage', {
          headers: { authorization: `Bearer ${key}` },
          body: {
            license: id,
            product: 'photon',
            seq: 0,
            generatedAt: Math.floor(Date.now() / 1000),
            device: `device-${i}`,
            quotas: { exports: { used: USED_PER_DEVICE, window } },
          },
        });
        answers.push(answer!);
      },
    );
    expect(answers.map((answer) => answer?.status)).toEqual(Array(DEVICES).fill(202));
    const total = DEVICES * USED_PER_DEVICE;
    for (const client of clients) {
      expect((await quotas(client, key)).exports).toMatchObject({
        used: total,
        remaining: 0,
        overuse: total - 1000,
      });
    }
  }, 120_000);
});
