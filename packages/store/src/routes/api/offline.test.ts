import { createHash } from 'node:crypto';
import { base64urlEncode, decodeDocument, readLicenseClaims, utf8Encode } from '@licensekit/core';
import type { OfflineRequestFields } from '@licensekit/core/offline';
import {
  createOfflineRequest,
  licenseKeyHint,
  qrParts,
  readOfflineResponse,
} from '@licensekit/core/offline';
import type { DeviceKey } from '@licensekit/verifier';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../../lib/clock.js';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import {
  activate,
  buy,
  DAY_MS,
  deviceKey,
  keyGet,
  keyPost,
  storeVerifier,
} from '../../testing/licensing.js';

/**
 * Offline activation over the API (POST /v1/licenses/offline and the admin route): the
 * requests are made by core's createOfflineRequest with real device keys, the answers
 * checked with the real verifier bound to the device. Every refusal is a typed 4xx that
 * writes nothing: no device, no token, no answered request.
 */

const PATH = '/v1/licenses/offline';
const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));

describe.skipIf(postgresUnavailable)('offline activation API', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
  });
  afterAll(async () => store?.close());

  /** A request dated by the store's clock (the default is the real time). */
  function offlineRequest(device: DeviceKey, fields: Partial<OfflineRequestFields> = {}) {
    return createOfflineRequest(device, {
      kind: 'activate',
      product: 'photon',
      iat: seconds(store.clock.now()),
      ...fields,
    });
  }

  const post = (key: string, body: unknown) => keyPost(store, PATH, key, body);

  /** What a refused request could have written. */
  async function written(licenseId: string) {
    const count = async (sql: string) =>
      Number((await store.db.query<{ n: number }>(sql, [licenseId]))[0]!.n);
    return {
      devices: await count('SELECT count(*)::int AS n FROM devices WHERE license_id = $1'),
      tokens: await count('SELECT count(*)::int AS n FROM tokens WHERE license_id = $1'),
      answered: await count(
        'SELECT count(*)::int AS n FROM offline_requests WHERE license_id = $1',
      ),
      usage: await count('SELECT count(*)::int AS n FROM usage WHERE license_id = $1'),
    };
  }

  async function expectRefused(
    purchase: Purchase,
    body: unknown,
    status: number,
    code: string,
    message?: RegExp,
  ) {
    const before = await written(purchase.licenseId);
    const response = await post(purchase.key, body);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().error.code).toBe(code);
    if (message) expect(response.json().error.message).toMatch(message);
    expect(await written(purchase.licenseId)).toEqual(before);
  }

  test('activate: a seat for the device key and a token bound to it that the real verifier accepts', async () => {
    const purchase = await buy(store);
    const laptop = await deviceKey();
    const request = await offlineRequest(laptop, { license: purchase.licenseId });
    const response = await post(purchase.key, { request: request.text });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      kind: 'activate',
      license: purchase.licenseId,
      device: { thumbprint: laptop.thumbprint, name: '' },
      usage: null,
      replayed: false,
      test: true,
    });
    expect(body.response).toMatch(/^LK1-RES\./);
    expect(body.response).not.toContain(purchase.key);

    const answer = await readOfflineResponse(body.response);
    expect(answer).toEqual({ nonce: request.nonce, request: request.hash, token: body.token });
    expect(claimsOf(body.token)).toMatchObject({ seq: 1, cnf: { jkt: laptop.thumbprint } });
    const verdict = await (await storeVerifier(store, { device: laptop })).verify(body.token);
    expect(verdict).toMatchObject({ valid: true, status: 'active' });
    // Another device's verifier refuses it: the token is bound.
    const desk = await storeVerifier(store, { device: await deviceKey() });
    expect((await desk.verify(body.token)).status).toBe('wrong_device');

    // The response as QR codes: SVG, named for assistive technology.
    expect(body.qr.length).toBeGreaterThanOrEqual(1);
    for (const svg of body.qr) expect(svg).toMatch(/^<svg role="img" aria-label="[^"]+" /);

    const devices = await store.db.query<{ thumbprint: string; name: string }>(
      'SELECT thumbprint, name FROM devices WHERE license_id = $1 AND deactivated_at IS NULL',
      [purchase.licenseId],
    );
    expect(devices).toEqual([{ thumbprint: laptop.thumbprint, name: '' }]);
    const [kept] = await store.db.query<{ response: string; device_id: string }>(
      'SELECT response, device_id FROM offline_requests WHERE request_hash = $1',
      [request.hash],
    );
    expect(kept).toEqual({ response: body.response, device_id: body.device.id });
  });

  test('a request that names no license is matched by the key hint', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const request = await offlineRequest(device, { keyHint: licenseKeyHint(purchase.key) });
    expect(request.license).toBeUndefined();
    const response = await post(purchase.key, { request: request.text });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().license).toBe(purchase.licenseId);
  });

  test('replay: the same request again gets the same response and takes no second seat', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const request = await offlineRequest(device, { license: purchase.licenseId });
    const first = (await post(purchase.key, { request: request.text })).json();
    const after = await written(purchase.licenseId);
    store.clock.advance(60_000);
    // Broken up as a paste may be (whitespace is ignored), and as QR parts: the same request.
    const wrapped = await post(purchase.key, { request: request.text.replace(/(.{64})/g, '$1 ') });
    const again = wrapped.json();
    expect(wrapped.statusCode).toBe(200);
    expect(again).toEqual({ ...first, replayed: true });
    const parts = qrParts(request.text, 200).reverse();
    expect(parts.length).toBeGreaterThan(1);
    const scanned = await post(purchase.key, { parts });
    expect(scanned.statusCode).toBe(200);
    expect(scanned.json().response).toBe(first.response);
    expect(await written(purchase.licenseId)).toEqual(after);

    // Concurrent copies of one new request: one answer, one seat.
    const other = await deviceKey();
    const fresh = await offlineRequest(other, { license: purchase.licenseId });
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => post(purchase.key, { request: fresh.text })),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.json().response)).size).toBe(1);
    expect(answers.filter((answer) => !answer.json().replayed)).toHaveLength(1);
    expect((await written(purchase.licenseId)).devices).toBe(after.devices + 1);
  });

  test('a new request from an active device keeps its seat and gets the next token', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const online = await activate(store, purchase.key, device);
    expect(online.statusCode).toBe(200);
    const request = await offlineRequest(device, { license: purchase.licenseId, seq: 1 });
    const response = await post(purchase.key, { request: request.text });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().device.id).toBe(online.json().device.id);
    expect(claimsOf(response.json().token).seq).toBe(2);
    expect((await written(purchase.licenseId)).devices).toBe(1);
  });

  test('seats full: 409 SEATS_FULL, nothing written', async () => {
    const purchase = await buy(store); // pro-monthly: 2 seats
    for (let i = 0; i < 2; i++) {
      const request = await offlineRequest(await deviceKey(), { license: purchase.licenseId });
      expect((await post(purchase.key, { request: request.text })).statusCode).toBe(200);
    }
    const third = await offlineRequest(await deviceKey(), { license: purchase.licenseId });
    await expectRefused(purchase, { request: third.text }, 409, 'SEATS_FULL');
  });

  test('refresh with the device’s usage report: recorded as the device’s, the next token of the lineage', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const activation = await offlineRequest(device, { license: purchase.licenseId });
    const first = (await post(purchase.key, { request: activation.text })).json();
    const app = await storeVerifier(store, { device });
    expect((await app.consume(first.token, 'exports', 42)).granted).toBe(true);
    const { report } = await app.usageReport(first.token);
    expect(report).toBeDefined();

    store.clock.advance(2 * DAY_MS);
    const refresh = await offlineRequest(device, {
      kind: 'refresh',
      license: purchase.licenseId,
      seq: claimsOf(first.token).seq,
      usage: JSON.parse(JSON.stringify(report)),
    });
    const response = await post(purchase.key, { request: refresh.text });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      kind: 'refresh',
      device: first.device,
      // seats is a quota of the token the app counts in, not one of the plan's.
      usage: { accepted: ['exports'], ignored: ['seats'] },
    });
    const claims = claimsOf(body.token);
    expect(claims.seq).toBe(claimsOf(first.token).seq + 1);
    expect(claims.cnf).toEqual({ jkt: device.thumbprint });
    // The app installs it: the lineage goes on (its state holds the first token).
    expect(await app.verify(body.token)).toMatchObject({ valid: true, status: 'active' });

    const quotas = (await keyGet(store, '/v1/licenses/quotas', purchase.key)).json().quotas;
    expect(quotas.exports).toMatchObject({ used: 42, remaining: 958 });
    const [row] = await store.db.query<{ device: string; used: number }>(
      'SELECT device, used::int AS used FROM usage WHERE license_id = $1',
      [purchase.licenseId],
    );
    expect(row).toEqual({ device: device.thumbprint, used: 42 });
  });

  test('hostile requests: typed 4xx, nothing written', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const request = await offlineRequest(device, { license: purchase.licenseId });
    const text = request.text;

    // Mistyped: one character changed in the middle.
    const middle = Math.floor(text.length / 2);
    const typo = `${text.slice(0, middle)}${text[middle] === 'A' ? 'B' : 'A'}${text.slice(middle + 1)}`;
    await expectRefused(purchase, { request: typo }, 400, 'OFFLINE_REQUEST_INVALID', /checksum/);
    // Truncated, anywhere.
    for (const cut of [text.length - 3, middle, 12]) {
      await expectRefused(
        purchase,
        { request: text.slice(0, cut) },
        400,
        'OFFLINE_REQUEST_INVALID',
        /checksum/,
      );
    }
    // A response pasted where the request belongs.
    const other = await buy(store);
    const answered = (
      await post(other.key, {
        request: (await offlineRequest(device, { license: other.licenseId })).text,
      })
    ).json();
    await expectRefused(
      purchase,
      { request: answered.response },
      400,
      'OFFLINE_REQUEST_INVALID',
      /LK1-RES/,
    );
    // Not a licensekit text at all; QR parts that do not join.
    await expectRefused(purchase, { request: 'hello' }, 400, 'OFFLINE_REQUEST_INVALID');
    await expectRefused(
      purchase,
      { parts: qrParts(text, 200).slice(1) },
      400,
      'OFFLINE_REQUEST_INVALID',
      /missing/,
    );
    // Signed by another key than the one it carries, with a valid check.
    const forged = await forgedRequest(text, await deviceKey());
    await expectRefused(purchase, { request: forged }, 400, 'OFFLINE_REQUEST_INVALID', /signature/);
    // Oversized: past the schema, and past core's limit.
    await expectRefused(purchase, { request: `LK1-REQ.${'a'.repeat(33_000)}` }, 400, 'BAD_REQUEST');
    await expectRefused(
      purchase,
      { request: `LK1-REQ.${'a'.repeat(32_760)}` },
      400,
      'OFFLINE_REQUEST_INVALID',
      /checksum/,
    );
    const huge = await keyPost(store, PATH, purchase.key, { request: 'x'.repeat(60_000) });
    expect(huge.statusCode).toBe(413);
  });

  test('requests for another product, license or key: 409 OFFLINE_REQUEST_MISMATCH', async () => {
    const purchase = await buy(store);
    const other = await buy(store);
    const device = await deviceKey();
    const cases: [Partial<OfflineRequestFields>, RegExp][] = [
      [{ product: 'photon-presets', license: purchase.licenseId }, /product/],
      [{ license: other.licenseId }, /another license/],
      [{ keyHint: licenseKeyHint(other.key) }, /ending in/],
      [{ keyHint: 'ZZZZ' }, /ending in ZZZZ/],
      [
        {
          license: purchase.licenseId,
          usage: {
            license: other.licenseId,
            product: 'photon',
            seq: 0,
            generatedAt: seconds(store.clock.now()),
            quotas: {},
          },
        },
        /usage report/,
      ],
      [{ license: purchase.licenseId, seq: 7 }, /never had/],
    ];
    for (const [fields, message] of cases) {
      if (fields.keyHint === licenseKeyHint(purchase.key)) continue; // 1 in 2^20
      const request = await offlineRequest(device, fields);
      await expectRefused(
        purchase,
        { request: request.text },
        409,
        'OFFLINE_REQUEST_MISMATCH',
        message,
      );
    }
    // An answered request brought for another license (both hints alike).
    const shared = await offlineRequest(device, { keyHint: licenseKeyHint(other.key) });
    expect((await post(other.key, { request: shared.text })).statusCode).toBe(200);
    await store.db.query('UPDATE licenses SET key_hint = $2 WHERE id = $1', [
      purchase.licenseId,
      licenseKeyHint(other.key),
    ]);
    await expectRefused(
      purchase,
      { request: shared.text },
      409,
      'OFFLINE_REQUEST_MISMATCH',
      /already answered/,
    );
  });

  test('refresh for a device not active, stale requests, a reused nonce, revoked, unpaid, unknown key', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const refresh = await offlineRequest(device, { kind: 'refresh', license: purchase.licenseId });
    await expectRefused(purchase, { request: refresh.text }, 404, 'DEVICE_NOT_FOUND');

    const now = seconds(store.clock.now());
    const stale = await offlineRequest(device, {
      license: purchase.licenseId,
      iat: now - 31 * 86_400,
    });
    await expectRefused(
      purchase,
      { request: stale.text },
      400,
      'OFFLINE_REQUEST_INVALID',
      /30 days/,
    );
    const ahead = await offlineRequest(device, {
      license: purchase.licenseId,
      iat: now + 2 * 86_400,
    });
    await expectRefused(purchase, { request: ahead.text }, 400, 'OFFLINE_REQUEST_INVALID', /clock/);

    const first = await offlineRequest(device, { license: purchase.licenseId });
    expect((await post(purchase.key, { request: first.text })).statusCode).toBe(200);
    const sameNonce = await offlineRequest(device, {
      kind: 'refresh',
      license: purchase.licenseId,
      nonce: first.nonce,
    });
    await expectRefused(purchase, { request: sameNonce.text }, 409, 'OFFLINE_NONCE_REUSED');

    const unpaid = await buy(store, { provider: 'manual' });
    const pending = await offlineRequest(device, { license: unpaid.licenseId });
    await expectRefused(unpaid, { request: pending.text }, 402, 'PAYMENT_REQUIRED');

    const revoke = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/licenses/${purchase.licenseId}/revoke`,
      headers: ADMIN,
      payload: {},
    });
    expect(revoke.statusCode).toBe(200);
    // Even the replay of an answered request.
    await expectRefused(purchase, { request: first.text }, 403, 'LICENSE_REVOKED');

    const unknown = await post('LK-00000-00000-00000-00000-00000-00000-00', {
      request: first.text,
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('LICENSE_NOT_FOUND');
  });

  test('logProof: the response carries the token’s proof bundle, and so does its replay', async () => {
    const purchase = await buy(store);
    const request = await offlineRequest(await deviceKey(), { license: purchase.licenseId });
    const body = (await post(purchase.key, { request: request.text, logProof: true })).json();
    const answer = await readOfflineResponse(body.response);
    expect(answer.logProof).toMatchObject({
      index: expect.any(Number),
      checkpoint: expect.any(String),
    });
    expect((await post(purchase.key, { request: request.text })).json().response).toBe(
      body.response,
    );
  });

  test('the admin route answers for the license in its path', async () => {
    const purchase = await buy(store);
    const device = await deviceKey();
    const request = await offlineRequest(device, { keyHint: licenseKeyHint(purchase.key) });
    const url = `/v1/admin/licenses/${purchase.licenseId}/offline`;
    const admin = (payload: unknown, path = url) =>
      store.app.inject({ method: 'POST', url: path, headers: ADMIN, payload: payload as object });

    const response = await admin({ request: request.text, format: 'jwt' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ license: purchase.licenseId, kind: 'activate' });
    expect(response.json().token.split('.')).toHaveLength(3);
    expect((await admin({ request: request.text })).json()).toMatchObject({ replayed: true });

    const other = await buy(store);
    const mismatched = await admin(
      { request: request.text },
      `/v1/admin/licenses/${other.licenseId}/offline`,
    );
    expect(mismatched.statusCode).toBe(409);
    const missing = await admin({ request: request.text }, '/v1/admin/licenses/lic_nope/offline');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
    const unauthenticated = await store.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${purchase.key}` },
      payload: { request: request.text },
    });
    expect(unauthenticated.statusCode).toBe(401);
  });

  test('property: any valid usage ledger → request → store → response whose token verifies and names the request', async () => {
    const quotaName = fc.constantFrom('exports', 'renders', 'api.calls', 'x:1');
    const ledger = fc.dictionary(
      quotaName,
      fc.record({
        used: fc.integer({ min: 0, max: 2 ** 40 }),
        // From a year before the purchase to beyond the one day of clock skew allowed.
        window: fc.integer({ min: -365 * 86_400, max: 3 * 86_400 }),
      }),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(
        ledger,
        fc.constantFrom<'cwt' | 'jwt'>('cwt', 'jwt'),
        async (quotas, format) => {
          const purchase = await buy(store);
          const device = await deviceKey();
          const now = seconds(store.clock.now());
          const usage = {
            license: purchase.licenseId,
            product: 'photon',
            seq: 0,
            generatedAt: now,
            device: device.thumbprint,
            quotas: Object.fromEntries(
              Object.entries(quotas).map(([name, entry]) => [
                name,
                { used: entry.used, window: now + entry.window },
              ]),
            ),
          };
          const request = await offlineRequest(device, { license: purchase.licenseId, usage });
          const response = await post(purchase.key, { request: request.text, format });
          expect(response.statusCode, response.body).toBe(200);
          const body = response.json();
          const answer = await readOfflineResponse(body.response);
          expect(answer.nonce).toBe(request.nonce);
          expect(answer.request).toBe(request.hash);
          expect(answer.token).toBe(body.token);
          const verdict = await (await storeVerifier(store, { device, state: false })).verify(
            answer.token,
          );
          expect(verdict.valid).toBe(true);
          expect(verdict.claims?.cnf).toEqual({ jkt: device.thumbprint });
          expect([...body.usage.accepted, ...body.usage.ignored].sort()).toEqual(
            Object.keys(quotas).sort(),
          );
          for (const [name, entry] of Object.entries(usage.quotas)) {
            const recorded = name === 'exports' && entry.window <= now + 86_400;
            expect(body.usage.accepted.includes(name), name).toBe(recorded);
          }
        },
      ),
      { numRuns: 12, seed: 20260115 },
    );
  });
});

/**
 * A request whose JWS carries the device key `text` was made with but is signed by
 * `signer`, framed with a valid check: only the signature can give it away.
 */
async function forgedRequest(text: string, signer: DeviceKey): Promise<string> {
  const jws = text.split('.').slice(1, 4);
  const input = `${jws[0]}.${jws[1]}`;
  const signature = base64urlEncode(await signer.sign(utf8Encode(input)));
  const framed = `LK1-REQ.${input}.${signature}`;
  const check = base64urlEncode(createHash('sha256').update(framed).digest()).slice(0, 8);
  return `${framed}.${check}`;
}
