import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OfflineRequest, OfflineRequestFields } from '@licensekit/core/offline';
import { createOfflineRequest, qrParts, readOfflineResponse } from '@licensekit/core/offline';
import type { DeviceKey } from '@licensekit/verifier';
import type { LightMyRequestResponse } from 'fastify';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../../lib/clock.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, openTestDatabase, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import { buy, deviceKey, storeVerifier } from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  formSource,
  PageClient,
  tags,
  textOf,
  unescapeHtml,
} from '../../testing/pages.js';

/**
 * The portal's offline activation pages, through Fastify's inject as a browser would use
 * them: the request pasted (multipart, as the page's form sends it), as its file, or as
 * PNG and JPEG pictures of its QR codes made here with the encoder; the preview; the
 * confirmation; the response as text, file and SVG codes — each page accessible and
 * CSP-clean, every POST behind the session's CSRF token.
 */

const PAGE = '/portal/license/offline';

describe.skipIf(postgresUnavailable)('portal: offline activation pages', () => {
  let store: TestStore;
  let clients = 0;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
  });
  afterAll(async () => store?.close());

  async function signedIn(purchase: Purchase): Promise<PageClient> {
    const client = new PageClient(store, { remoteAddress: `10.7.0.${++clients}` });
    const response = await client.submit('/portal', '/portal/sign-in', {
      licenseKey: purchase.key,
    });
    expect(response.statusCode).toBe(303);
    return client;
  }

  function offlineRequest(device: DeviceKey, fields: Partial<OfflineRequestFields>) {
    return createOfflineRequest(device, {
      kind: 'activate',
      product: 'photon',
      iat: seconds(store.clock.now()),
      ...fields,
    });
  }

  /** Posts the offline form as a browser does: multipart, with the page's CSRF token. */
  async function submitForm(
    client: PageClient,
    fields: { request?: string; requestFile?: Buffer; qrImages?: Buffer[]; csrf?: string },
  ): Promise<LightMyRequestResponse> {
    const page = await client.get(PAGE);
    const form = new FormData();
    form.append('csrf', fields.csrf ?? formFields(page.body, PAGE).csrf!);
    form.append('request', fields.request ?? '');
    form.append(
      'requestFile',
      new Blob(fields.requestFile ? [new Uint8Array(fields.requestFile)] : []),
      fields.requestFile ? 'request.txt' : '',
    );
    for (const image of fields.qrImages ?? [Buffer.alloc(0)]) {
      form.append('qrImages', new Blob([new Uint8Array(image)]), image.length ? 'codes.png' : '');
    }
    const encoded = new Request('http://store.test/', { method: 'POST', body: form });
    return client.request({
      method: 'POST',
      url: PAGE,
      headers: { 'content-type': encoded.headers.get('content-type')! },
      payload: Buffer.from(await encoded.arrayBuffer()),
    });
  }

  /** Confirms a preview and follows the redirect to the response page. */
  async function confirm(client: PageClient, preview: LightMyRequestResponse) {
    const confirmed = await client.post(
      `${PAGE}/confirm`,
      formFields(preview.body, `${PAGE}/confirm`),
    );
    expect(confirmed.statusCode, confirmed.body).toBe(303);
    const location = String(confirmed.headers.location);
    expect(location).toMatch(/^\/portal\/license\/offline\/responses\/[\w-]{43}$/);
    return { location, page: await client.get(location) };
  }

  function responseText(page: string): string {
    return unescapeHtml(/<code id="offline-response">([^<]*)<\/code>/.exec(page)![1]!);
  }

  async function expectAnswers(
    request: OfflineRequest,
    device: DeviceKey,
    text: string,
  ): Promise<void> {
    const answer = await readOfflineResponse(text);
    expect(answer.nonce).toBe(request.nonce);
    expect(answer.request).toBe(request.hash);
    const verdict = await (await storeVerifier(store, { device, state: false })).verify(
      answer.token,
    );
    expect(verdict).toMatchObject({ valid: true, status: 'active' });
    expect(verdict.claims?.cnf).toEqual({ jkt: device.thumbprint });
  }

  test('paste → preview → confirm → the response as text, file and SVG codes', async () => {
    const purchase = await buy(store);
    const client = await signedIn(purchase);
    const license = await client.get('/portal/license');
    expect(tags(license.body, 'a').map((a) => a.href)).toContain(PAGE);

    const form = await client.get(PAGE);
    expect(form.statusCode).toBe(200);
    expect(accessibilityProblems(form.body)).toEqual([]);
    expect(formSource(form.body, PAGE)).toMatch(/enctype="multipart\/form-data"/);

    const device = await deviceKey();
    const request = await offlineRequest(device, { license: purchase.licenseId });
    // Pasted as a terminal wraps it: line breaks every 76 characters.
    const preview = await submitForm(client, {
      request: request.text.replace(/(.{76})/g, '$1\r\n'),
    });
    expect(preview.statusCode, textOf(preview.body)).toBe(200);
    expect(accessibilityProblems(preview.body)).toEqual([]);
    const shown = textOf(preview.body);
    expect(shown).toContain(
      'Activate a new device: it takes one of your seats (0 of 2 in use now, 1 after)',
    );
    expect(shown).toContain(device.thumbprint.slice(0, 12));
    expect(shown).toContain('The request reports no usage.');
    // The preview changes nothing.
    expect(await count('devices', purchase.licenseId)).toBe(0);

    const { location, page } = await confirm(client, preview);
    expect(page.statusCode).toBe(200);
    expect(accessibilityProblems(page.body)).toEqual([]);
    expect(page.body).not.toContain(purchase.key);
    const text = responseText(page.body);
    await expectAnswers(request, device, text);
    expect(page.body).toMatch(/<svg role="img" aria-label="Offline response" [^>]*viewBox=/);
    expect(tags(page.body, 'a').map((a) => a.href)).toContain(`${location}/file`);
    // The portal's response carries the token's issuance-log proof (offline apps cannot fetch it).
    expect((await readOfflineResponse(text)).logProof).toBeDefined();

    const file = await client.get(`${location}/file`);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-disposition']).toBe(
      'attachment; filename="licensekit-response.txt"',
    );
    expect(file.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(file.body).toBe(`${text}\n`);
    expect(await count('devices', purchase.licenseId)).toBe(1);

    // The same request again: the preview says so, and the answer is the same response.
    const again = await submitForm(client, { request: request.text });
    expect(textOf(again.body)).toContain('This request was answered before');
    const replay = await confirm(client, again);
    expect(replay.location).toBe(location);
    expect(await count('devices', purchase.licenseId)).toBe(1);

    // Another customer cannot see this response.
    const other = await signedIn(await buy(store));
    expect((await other.get(location)).statusCode).toBe(404);
    expect((await other.get(`${location}/file`)).statusCode).toBe(404);
  });

  test('the request file, and PNG and JPEG pictures of its QR codes', async () => {
    const purchase = await buy(store, { planId: 'team-yearly' }); // 5 seats
    const client = await signedIn(purchase);

    // The file as the app saved it, with a final newline.
    const byFile = await offlineRequest(await deviceKey(), { license: purchase.licenseId });
    const filePreview = await submitForm(client, {
      requestFile: Buffer.from(`${byFile.text}\n`),
    });
    expect(filePreview.statusCode, textOf(filePreview.body)).toBe(200);
    expect(textOf(filePreview.body)).toContain('Activate a new device');

    // A screenshot of the one code of a short request.
    const device = await deviceKey();
    const byCode = await offlineRequest(device, { license: purchase.licenseId });
    const png = await QRCode.toBuffer(byCode.text, { type: 'png', errorCorrectionLevel: 'M' });
    const codePreview = await submitForm(client, { qrImages: [png] });
    expect(codePreview.statusCode, textOf(codePreview.body)).toBe(200);
    const { page } = await confirm(client, codePreview);
    await expectAnswers(byCode, device, responseText(page.body));

    // A request with a usage report, cut into parts: all codes in one picture, as a JPEG.
    const reporting = await deviceKey();
    const now = seconds(store.clock.now());
    const usage = {
      license: purchase.licenseId,
      product: 'photon',
      seq: 0,
      generatedAt: now,
      device: reporting.thumbprint,
      quotas: { exports: { used: 12, window: now - 3600 } },
    };
    const long = await offlineRequest(reporting, { license: purchase.licenseId, usage });
    const parts = qrParts(long.text, 400);
    expect(parts.length).toBeGreaterThan(1);
    const sheet = await codeSheet(parts);
    const photo = Buffer.from(jpeg.encode(sheet, 90).data);
    const partsPreview = await submitForm(client, { qrImages: [photo] });
    expect(partsPreview.statusCode, textOf(partsPreview.body)).toBe(200);
    expect(textOf(partsPreview.body)).toMatch(/exports 12 /);
    // … and one picture per code, in another order.
    const separate = await Promise.all(
      parts
        .reverse()
        .map((part) => QRCode.toBuffer(part, { type: 'png', errorCorrectionLevel: 'M' })),
    );
    const separatePreview = await submitForm(client, { qrImages: separate });
    expect(separatePreview.statusCode, textOf(separatePreview.body)).toBe(200);
    await confirm(client, separatePreview);
    const [recorded] = await store.db.query<{ used: number }>(
      'SELECT used::int AS used FROM usage WHERE license_id = $1 AND device = $2',
      [purchase.licenseId, reporting.thumbprint],
    );
    expect(recorded?.used).toBe(12);
  });

  test('refusals are shown on the form; nothing is written', async () => {
    const purchase = await buy(store);
    const client = await signedIn(purchase);
    const device = await deviceKey();
    const request = await offlineRequest(device, { license: purchase.licenseId });
    const expectFormError = (response: LightMyRequestResponse, status: number, message: RegExp) => {
      expect(response.statusCode, textOf(response.body)).toBe(status);
      expect(accessibilityProblems(response.body)).toEqual([]);
      expect(response.body).toMatch(/class="error-summary"/);
      expect(textOf(response.body)).toMatch(message);
    };

    // One character changed (never to itself: the request's random key may have an A there).
    const typo = request.text.replace(
      /(.)(.{20})$/,
      (_, was, rest) => `${was === 'A' ? 'B' : 'A'}${rest}`,
    );
    expectFormError(await submitForm(client, { request: typo }), 400, /checksum/);
    expectFormError(await submitForm(client, {}), 400, /Paste the request/);
    expectFormError(
      await submitForm(client, { qrImages: [Buffer.from('GIF89a not a picture')] }),
      400,
      /not a PNG or JPEG/,
    );
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(255);
    expectFormError(
      await submitForm(client, { qrImages: [PNG.sync.write(blank)] }),
      400,
      /No QR code/,
    );
    expectFormError(
      await submitForm(client, { requestFile: Buffer.from([0xff, 0xfe, 0x00]) }),
      400,
      /not a text file/,
    );
    const foreign = await offlineRequest(device, { license: (await buy(store)).licenseId });
    expectFormError(await submitForm(client, { request: foreign.text }), 409, /another license/);
    const refresh = await offlineRequest(device, { kind: 'refresh', license: purchase.licenseId });
    expectFormError(await submitForm(client, { request: refresh.text }), 404, /not active/);

    // CSRF: a multipart post without the session's token, a confirm without it.
    const forged = await submitForm(client, { request: request.text, csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    const confirmForged = await client.post(`${PAGE}/confirm`, { request: request.text });
    expect(confirmForged.statusCode).toBe(403);
    // A control character in a multipart field: the store's text rule holds here too.
    const nul = await submitForm(client, { request: `${request.text}\u0000` });
    expect(nul.statusCode).toBe(400);
    expect(textOf(nul.body)).toContain('holds U+0000');
    expect(await count('devices', purchase.licenseId)).toBe(0);
    expect(await count('offline_requests', purchase.licenseId)).toBe(0);

    // Without a session: the pages send to the sign-in, the posts are refused.
    const stranger = new PageClient(store, { remoteAddress: '10.7.1.1' });
    const away = await stranger.get(PAGE);
    expect(away.statusCode).toBe(303);
    expect(away.headers.location).toBe('/portal');
    expect((await stranger.post(`${PAGE}/confirm`, { request: request.text })).statusCode).toBe(
      401,
    );
  });

  test('the built store (dist) reads the pictures on its worker thread', async () => {
    // From the sources (the other tests) pictures are read in-thread; the build reads them
    // on a worker that loads the built module: this store is the build.
    const built = (await import(
      new URL('../../../dist/index.js', import.meta.url).href
    )) as typeof import('../../index.js');
    const database = await openTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-store-built-'));
    const app = await built.buildStore({
      publicUrl: 'http://store.test',
      seedDemo: true,
      adminToken: 'test-admin-token',
      licensing: { billing: { enabled: false } },
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      dataDir,
      db: database.db,
      clock: store.clock,
    });
    const outer = store;
    store = { app, db: database.db, clock: outer.clock, dataDir, close: async () => {} };
    try {
      const purchase = await buy(store);
      const client = await signedIn(purchase);
      const device = await deviceKey();
      const request = await offlineRequest(device, { license: purchase.licenseId });
      const png = await QRCode.toBuffer(request.text, { type: 'png', errorCorrectionLevel: 'M' });
      const preview = await submitForm(client, { qrImages: [png] });
      expect(preview.statusCode, textOf(preview.body)).toBe(200);
      const blank = new PNG({ width: 32, height: 32 });
      blank.data.fill(255);
      const none = await submitForm(client, { qrImages: [PNG.sync.write(blank)] });
      expect(textOf(none.body)).toMatch(/No QR code/);
      const junk = await submitForm(client, { qrImages: [Buffer.from('not a picture at all')] });
      expect(textOf(junk.body)).toMatch(/not a PNG or JPEG/);
      const { page } = await confirm(client, preview);
      await expectAnswers(request, device, responseText(page.body));
    } finally {
      store = outer;
      await app.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  async function count(table: 'devices' | 'offline_requests', licenseId: string): Promise<number> {
    const [row] = await store.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE license_id = $1`,
      [licenseId],
    );
    return row!.n;
  }
});

/** The QR codes of `parts` side by side on one white sheet (a photo of a printout). */
async function codeSheet(
  parts: string[],
): Promise<{ data: Buffer; width: number; height: number }> {
  const codes = await Promise.all(
    parts.map(async (part) =>
      PNG.sync.read(
        await QRCode.toBuffer(part, { type: 'png', errorCorrectionLevel: 'M', scale: 4 }),
      ),
    ),
  );
  const gap = 40;
  const width = codes.reduce((sum, code) => sum + code.width + gap, gap);
  const height = Math.max(...codes.map((code) => code.height)) + 2 * gap;
  const sheet = new PNG({ width, height });
  sheet.data.fill(255);
  let left = gap;
  for (const code of codes) {
    PNG.bitblt(code, sheet, 0, 0, code.width, code.height, left, gap);
    left += code.width + gap;
  }
  return { data: sheet.data, width, height };
}
