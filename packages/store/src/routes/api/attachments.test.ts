import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LicenseFixture } from '../../testing/fixtures.js';
import { ADMIN, bearer, createLicense } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';

const GiB = 1024 ** 3;
// Known bytes at known offsets of the sparse file: its start, middle and end.
const MARKERS = [
  { offset: 0, bytes: Buffer.from('LICENSEKIT-HEAD') },
  { offset: 512 * 1024 ** 2 + 7, bytes: Buffer.from('MIDDLE-MARKER') },
  { offset: GiB - 12, bytes: Buffer.from('TAIL-MARKER!') },
];

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe.skipIf(postgresUnavailable)('attachments: metered downloads with HTTP ranges', () => {
  let store: TestStore;
  let base: string;
  let holder: LicenseFixture;
  let largeId: string;
  let presetId: string;
  let largePath: string;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: {
        webhooks: { enabled: false },
        jobs: { intervalMs: 0 },
        attachments: { maxUploadBytes: 1024 * 1024 },
      },
      licensing: { billing: { enabled: false } },
    });
    const { app, dataDir } = store;
    base = await app.listen({ port: 0, host: '127.0.0.1' });

    // A 1 GiB file made sparse: truncate, then a few known bytes at known offsets.
    mkdirSync(join(dataDir, 'files', 'big'), { recursive: true });
    largePath = join(dataDir, 'files', 'big', 'large.bin');
    const handle = await open(largePath, 'w');
    await handle.truncate(GiB);
    for (const { offset, bytes } of MARKERS) await handle.write(bytes, 0, bytes.length, offset);
    await handle.close();

    const registered = await app.inject({
      method: 'POST',
      url: '/v1/admin/attachments',
      headers: ADMIN,
      payload: {
        productId: 'photon-presets',
        name: 'large.bin',
        path: 'big/large.bin',
        quota: 'downloads',
      },
    });
    expect(registered.statusCode).toBe(201);
    expect(registered.json()).toMatchObject({
      size: GiB,
      path: 'big/large.bin',
      quota: 'downloads',
    });
    largeId = registered.json().id;

    holder = await createLicense(app, {
      productId: 'photon-presets',
      planId: 'pack-50',
      periodEnd: new Date(app.clock.now().getTime() + 365 * 86_400_000),
    });
    const listed = await app.inject({ url: '/v1/attachments', headers: bearer(holder.key) });
    const preset = listed
      .json()
      .attachments.find((a: { name: string }) => a.name === 'demo-presets.json');
    expect(preset).toMatchObject({ contentType: 'application/json', quota: 'downloads' });
    presetId = preset.id;
  });
  afterAll(async () => store?.close());

  const get = (id: string, headers: Record<string, string> = {}, key = holder.key) =>
    store.app.inject({ url: `/v1/attachments/${id}`, headers: { ...bearer(key), ...headers } });
  const downloadsUsed = async (key = holder.key) =>
    (await store.app.inject({ url: '/v1/licenses/quotas', headers: bearer(key) })).json().quotas
      .downloads.used as number;

  test('ranges at the start, middle and end return the known bytes; one unit per download', async () => {
    for (const { offset, bytes } of MARKERS) {
      const end = offset + bytes.length - 1;
      const response = await get(largeId, { range: `bytes=${offset}-${end}` });
      expect(response.statusCode).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${offset}-${end}/${GiB}`);
      expect(response.headers['content-length']).toBe(String(bytes.length));
      expect(response.headers['accept-ranges']).toBe('bytes');
      expect(response.rawPayload.equals(bytes)).toBe(true);
    }
    const suffix = await get(largeId, { range: 'bytes=-12' });
    expect(suffix.rawPayload.toString()).toBe('TAIL-MARKER!');
    const open = await get(largeId, { range: `bytes=${GiB - 4}-` });
    expect(open.rawPayload.toString()).toBe('KER!');
    const clamped = await get(largeId, { range: `bytes=${GiB - 2}-${GiB * 4}` });
    expect(clamped.headers['content-range']).toBe(`bytes ${GiB - 2}-${GiB - 1}/${GiB}`);
    // The first request spent one unit; the rest rode on the download grant.
    expect(open.headers['licensekit-quota-remaining']).toBe('49');
    expect(await downloadsUsed()).toBe(1);
  });

  test('a full 1 GiB download streams without holding the file in memory', async () => {
    const expected = await sha256File(largePath);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      const response = await fetch(`${base}/v1/attachments/${largeId}`, {
        headers: bearer(holder.key),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(GiB));
      expect(response.headers.get('content-disposition')).toContain('filename="large.bin"');
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of response.body!) {
        hash.update(chunk);
        received += chunk.length;
      }
      expect(received).toBe(GiB);
      expect(hash.digest('hex')).toBe(expected);
    } finally {
      clearInterval(sampler);
    }
    // Client and server share this process: both stream in small chunks.
    expect(peak - baseline).toBeLessThan(192 * 1024 ** 2);
    expect(await downloadsUsed()).toBe(1); // still within the grant
  });

  test('bad ranges are refused with 416 and spend nothing', async () => {
    const before = await downloadsUsed();
    for (const range of [
      'bytes=5-1',
      'bytes=-0',
      'bytes=0-1,5-6',
      'bytes=0-1, 5-6',
      `bytes=${GiB}-`,
      'bytes=',
      'bytes=-',
      'items=0-5',
      'bytes=abc',
      `bytes=${'9'.repeat(30)}-`,
    ]) {
      const response = await get(presetId, { range });
      expect(response.statusCode, range).toBe(416);
      expect(response.json().error.code).toBe('RANGE_NOT_SATISFIABLE');
      expect(response.headers['content-range']).toMatch(/^bytes \*\/\d+$/);
    }
    expect(await downloadsUsed()).toBe(before);
  });

  test('HEAD spends nothing; If-Range with a stale validator gets the whole file', async () => {
    const before = await downloadsUsed();
    const head = await store.app.inject({
      method: 'HEAD',
      url: `/v1/attachments/${presetId}`,
      headers: bearer(holder.key),
    });
    expect(head.statusCode).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect(await downloadsUsed()).toBe(before);

    const first = await get(presetId, { range: 'bytes=0-9' });
    expect(first.statusCode).toBe(206);
    const etag = String(first.headers.etag);
    const same = await get(presetId, { range: 'bytes=0-9', 'if-range': etag });
    expect(same.statusCode).toBe(206);
    const stale = await get(presetId, { range: 'bytes=0-9', 'if-range': '"something-else"' });
    expect(stale.statusCode).toBe(200);
    expect(JSON.parse(stale.body).presets.length).toBeGreaterThan(0);
    expect(await downloadsUsed()).toBe(before + 1);
  });

  test('with no units left a new download is refused; granted ones go on', async () => {
    const spender = await createLicense(store.app, {
      productId: 'photon-presets',
      planId: 'pack-50',
    });
    const started = await get(presetId, { range: 'bytes=0-0' }, spender.key);
    expect(started.statusCode).toBe(206);
    await store.db.query(`UPDATE usage SET used = 50 WHERE license_id = $1 AND device = ''`, [
      spender.license.id,
    ]);
    const refused = await get(largeId, { range: 'bytes=0-0' }, spender.key);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('QUOTA_EXHAUSTED');
    expect((await get(presetId, { range: 'bytes=1-1' }, spender.key)).statusCode).toBe(206);
    // When the grant has lapsed the same file costs a unit again: refused.
    store.clock.advance(25 * 3_600_000);
    try {
      const lapsed = await get(presetId, {}, spender.key);
      expect(lapsed.json().error.code).toBe('QUOTA_EXHAUSTED');
    } finally {
      store.clock.advance(-25 * 3_600_000);
    }
  });

  test('licenses that may not download, other products and unknown files', async () => {
    const photon = await createLicense(store.app, { productId: 'photon', planId: 'pro-monthly' });
    expect((await get(presetId, {}, photon.key)).json().error.code).toBe('ATTACHMENT_NOT_FOUND');
    const revoked = await createLicense(store.app, {
      productId: 'photon-presets',
      planId: 'pack-50',
      status: 'revoked',
    });
    expect((await get(presetId, {}, revoked.key)).statusCode).toBe(403);
    const expired = await createLicense(store.app, {
      productId: 'photon-presets',
      planId: 'pack-50',
      status: 'expired',
    });
    const unpaid = await get(presetId, {}, expired.key);
    expect(unpaid.statusCode).toBe(402);
    expect(unpaid.json()).toMatchObject({
      error: { code: 'PAYMENT_REQUIRED' },
      checkoutUrl: 'http://store.test/products/photon-presets?plan=pack-50',
    });
    expect((await get('att_AAAAAAAAAAAAAAAAAAAAAA')).json().error.code).toBe(
      'ATTACHMENT_NOT_FOUND',
    );
    expect((await get('..%2F..%2Fetc%2Fpasswd')).statusCode).toBe(400);
    const anonymous = await store.app.inject({ url: `/v1/attachments/${presetId}` });
    expect(anonymous.statusCode).toBe(401);
  });

  test('admin upload streams to disk, is capped, and registers only files inside files/', async () => {
    const content = randomBytes(200 * 1024);
    const upload = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments/upload?productId=photon-presets&name=pack%202.zip&contentType=application/zip',
      headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
      payload: content,
    });
    expect(upload.statusCode).toBe(201);
    expect(upload.json()).toMatchObject({ size: content.length, contentType: 'application/zip' });
    const fetched = await get(upload.json().id);
    expect(fetched.rawPayload.equals(content)).toBe(true);
    expect(fetched.headers['content-disposition']).toContain("filename*=UTF-8''pack%202.zip");

    const tooLargeDeclared = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments/upload?productId=photon-presets&name=big.zip',
      headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
      payload: randomBytes(1024 * 1024 + 1),
    });
    expect(tooLargeDeclared.statusCode).toBe(413);
    // Without a Content-Length the stream is counted and cut off on the way.
    const chunks = Array.from({ length: 20 }, () => randomBytes(64 * 1024));
    const tooLargeStreamed = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments/upload?productId=photon-presets&name=big.zip',
      headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
      payload: Readable.from(chunks),
    });
    expect(tooLargeStreamed.statusCode).toBe(413);
    expect(tooLargeStreamed.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const files = join(store.dataDir, 'files');
    expect(readdirSync(files).filter((name) => name.startsWith('.upload-'))).toEqual([]);

    const wrongType = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments/upload?productId=photon-presets&name=x.zip',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      payload: {},
    });
    expect(wrongType.statusCode).toBe(415);
    const noProduct = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments/upload?productId=nope&name=x.zip',
      headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('x'),
    });
    expect(noProduct.json().error.code).toBe('PRODUCT_NOT_FOUND');

    writeFileSync(join(store.dataDir, 'outside.txt'), 'secret');
    symlinkSync(join(store.dataDir, 'outside.txt'), join(files, 'link.txt'));
    for (const path of ['../outside.txt', 'link.txt', 'big', '/etc/passwd', 'missing.bin']) {
      const response = await store.app.inject({
        method: 'POST',
        url: '/v1/admin/attachments',
        headers: ADMIN,
        payload: { productId: 'photon-presets', name: 'x', path },
      });
      expect(response.statusCode, path).toBe(404);
    }
    const badName = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/attachments',
      headers: ADMIN,
      payload: { productId: 'photon-presets', name: 'a/b', path: 'big/large.bin' },
    });
    expect(badName.statusCode).toBe(400);

    const list = await store.app.inject({
      url: '/v1/admin/attachments?productId=photon-presets',
      headers: ADMIN,
    });
    expect(
      list
        .json()
        .attachments.map((a: { name: string }) => a.name)
        .sort(),
    ).toEqual(['demo-presets.json', 'large.bin', 'pack 2.zip']);
    const removed = await store.app.inject({
      method: 'DELETE',
      url: `/v1/admin/attachments/${upload.json().id}`,
      headers: ADMIN,
    });
    expect(removed.json()).toEqual({ deleted: true });
    expect(existsSync(join(files, upload.json().path))).toBe(true);
  });
});
