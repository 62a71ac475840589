import { decodeDocument, readLicenseClaims, tokenHash } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import {
  activate,
  buy,
  DAY_MS,
  deviceKey,
  injectFetch,
  keyGet,
  keyPost,
  proofFor,
  STORE_URL,
  storeVerifier,
} from '../../testing/licensing.js';

const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));
const hashOf = (token: string) => tokenHash(decodeDocument(token, 'license').bytes);

describe.skipIf(postgresUnavailable)('license API: activate, refresh, status, token', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore();
  });
  afterAll(async () => store?.close());

  test('purchase → activate → refresh → status, every token verified, lineage linked', async () => {
    const purchase = await buy(store);
    const verifier = await storeVerifier(store, { state: false });
    const first = await verifier.verify(purchase.token!);
    expect(first).toMatchObject({ valid: true, status: 'active', plan: 'pro-monthly' });
    expect(first.claims).toMatchObject({
      iss: 'acme',
      sub: purchase.licenseId,
      aud: 'photon',
      seq: 0,
    });
    expect(first.claims!.prev).toBeUndefined();
    expect(first.claims!.quota.seats).toEqual({ limit: 2 });
    expect(first.claims!.quota.exports).toEqual({ limit: 1000, per: 'month' });
    expect(first.claims!.grace).toBe(7 * 86_400);
    expect(first.claims!.anchor).toBe(Math.floor(store.clock.now().getTime() / 1000));
    expect(first.claims!.rfa).toBe(first.claims!.iat + 86_400);
    expect(first.claims!.exp).toBe(Math.floor(Date.UTC(2026, 1, 15, 12) / 1000));

    const laptop = await deviceKey();
    const activated = await activate(store, purchase.key, laptop);
    expect(activated.statusCode).toBe(200);
    const { device, token: bound } = activated.json();
    expect(device).toMatchObject({ thumbprint: laptop.thumbprint, name: 'laptop' });
    const boundClaims = claimsOf(bound);
    expect(boundClaims).toMatchObject({ seq: 1, cnf: { jkt: laptop.thumbprint } });
    expect(boundClaims.prev).toBe(await hashOf(purchase.token!));

    // The app's own verifier, bound to the device, refreshes through the store.
    const app = await storeVerifier(store, { device: laptop });
    expect((await app.verify(bound)).status).toBe('active');
    store.clock.advance(DAY_MS + 1000);
    expect((await app.verify(bound)).status).toBe('refresh_due');
    // The verifier dates its device proof with the system clock: freeze it at the store's.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(store.clock.now());
    const outcome = await app
      .refreshIfDue(bound, { storeUrl: STORE_URL, fetch: injectFetch(store) })
      .finally(() => vi.useRealTimers());
    expect(outcome.kind).toBe('refreshed');
    const refreshed = (outcome as { token: string }).token;
    const refreshedClaims = claimsOf(refreshed);
    expect(refreshedClaims).toMatchObject({ seq: 2, cnf: { jkt: laptop.thumbprint } });
    expect(refreshedClaims.prev).toBe(await hashOf(bound));

    // Refresh by token with a proof made here.
    const body = JSON.stringify({ token: refreshed });
    const next = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/refresh',
      headers: {
        'content-type': 'application/json',
        dpop: await proofFor(store, laptop, '/v1/licenses/refresh', body),
      },
      payload: body,
    });
    expect(next.statusCode).toBe(200);
    const nextClaims = claimsOf(next.json().token);
    expect(nextClaims.seq).toBe(3);
    expect(nextClaims.prev).toBe(await hashOf(refreshed));
    expect((await app.verify(next.json().token)).valid).toBe(true);

    const status = await keyGet(store, '/v1/licenses/status', purchase.key);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({
      license: purchase.licenseId,
      status: 'active',
      plan: 'pro-monthly',
      test: true,
      seats: 2,
      devicesInUse: 1,
      expiresAt: '2026-02-15T12:00:00.000Z',
      graceEndsAt: '2026-02-22T12:00:00.000Z',
      trialEndsAt: null,
      pendingChange: null,
    });
  });

  test('a bound token refreshes only with a proof of its device', async () => {
    const purchase = await buy(store);
    const laptop = await deviceKey();
    const other = await deviceKey();
    const bound = (await activate(store, purchase.key, laptop)).json().token;
    const withoutProof = await keyPost(store, '/v1/licenses/refresh', undefined, { token: bound });
    expect(withoutProof.statusCode).toBe(401);
    expect(withoutProof.json().error.code).toBe('DEVICE_PROOF_INVALID');
    const wrongDevice = await keyPost(
      store,
      '/v1/licenses/refresh',
      undefined,
      { token: bound },
      { device: other },
    );
    expect(wrongDevice.statusCode).toBe(401);
    // A proof is spent once.
    const payload = JSON.stringify({ token: bound });
    const proof = await proofFor(store, laptop, '/v1/licenses/refresh', payload);
    const once = await keyPost(
      store,
      '/v1/licenses/refresh',
      undefined,
      { token: bound },
      { proof },
    );
    expect(once.statusCode).toBe(200);
    const replay = await keyPost(
      store,
      '/v1/licenses/refresh',
      undefined,
      { token: bound },
      { proof },
    );
    expect(replay.statusCode).toBe(401);
    // A stale proof (older than 300 s) is refused.
    const stale = await proofFor(
      store,
      laptop,
      '/v1/licenses/refresh',
      payload,
      Math.floor(store.clock.now().getTime() / 1000) - 301,
    );
    expect(
      (await keyPost(store, '/v1/licenses/refresh', undefined, { token: bound }, { proof: stale }))
        .statusCode,
    ).toBe(401);
  });

  test('seats are enforced; re-activation is idempotent; deactivation frees a seat', async () => {
    const purchase = await buy(store);
    const [a, b, c] = await Promise.all([deviceKey(), deviceKey(), deviceKey()]);
    expect((await activate(store, purchase.key, a)).statusCode).toBe(200);
    expect((await activate(store, purchase.key, b)).statusCode).toBe(200);
    const full = await activate(store, purchase.key, c);
    expect(full.statusCode).toBe(409);
    expect(full.json().error.code).toBe('SEATS_FULL');
    const again = await activate(store, purchase.key, a);
    expect(again.statusCode).toBe(200);
    expect(claimsOf(again.json().token).cnf).toEqual({ jkt: a.thumbprint });

    const gone = await keyPost(store, '/v1/licenses/deactivate', purchase.key, {
      thumbprint: b.thumbprint,
    });
    expect(gone.statusCode).toBe(200);
    expect(gone.json().device.deactivatedAt).not.toBeNull();
    expect((await activate(store, purchase.key, c)).statusCode).toBe(200);
    const missing = await keyPost(store, '/v1/licenses/deactivate', purchase.key, {
      deviceId: 'dev_nope',
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('DEVICE_NOT_FOUND');
    // The deactivated device can no longer refresh its token.
    const token = (await activate(store, purchase.key, a)).json().token;
    const deviceId = (await keyGet(store, '/v1/licenses/status', purchase.key)).json();
    expect(deviceId.devicesInUse).toBe(2);
    await keyPost(store, '/v1/licenses/deactivate', purchase.key, { thumbprint: a.thumbprint });
    const refused = await keyPost(
      store,
      '/v1/licenses/refresh',
      undefined,
      { token },
      { device: a },
    );
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('DEVICE_NOT_FOUND');
  });

  test('concurrent activations never overfill the seats', async () => {
    const purchase = await buy(store);
    const devices = await Promise.all(Array.from({ length: 6 }, () => deviceKey()));
    const answers = await Promise.all(
      devices.map((device) => activate(store, purchase.key, device)),
    );
    const codes = answers.map((answer) => answer.statusCode).sort();
    expect(codes).toEqual([200, 200, 409, 409, 409, 409]);
    const seqs = answers
      .filter((answer) => answer.statusCode === 200)
      .map((answer) => claimsOf(answer.json().token).seq);
    expect(new Set(seqs).size).toBe(2);
  });

  test('concurrent refreshes of one license get distinct seqs, each linked to its predecessor', async () => {
    const purchase = await buy(store);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => keyPost(store, '/v1/licenses/refresh', purchase.key, {})),
    );
    expect(answers.every((answer) => answer.statusCode === 200)).toBe(true);
    const tokens = answers.map((answer) => answer.json().token as string);
    const bySeq = new Map(tokens.map((token) => [claimsOf(token).seq, token]));
    expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let seq = 2; seq <= 8; seq++) {
      expect(claimsOf(bySeq.get(seq)!).prev).toBe(await hashOf(bySeq.get(seq - 1)!));
    }
  });

  test('license key refresh gives an unbound token; bound with a thumbprint and proof', async () => {
    const purchase = await buy(store, { format: 'jwt' });
    expect(purchase.token!.split('.')).toHaveLength(3);
    const unbound = await keyPost(store, '/v1/licenses/refresh', purchase.key, { format: 'jwt' });
    expect(unbound.statusCode).toBe(200);
    expect(unbound.json().test).toBe(true);
    expect(claimsOf(unbound.json().token).cnf).toBeUndefined();
    const laptop = await deviceKey();
    await activate(store, purchase.key, laptop);
    const bound = await keyPost(
      store,
      '/v1/licenses/refresh',
      purchase.key,
      { thumbprint: laptop.thumbprint },
      { device: laptop },
    );
    expect(bound.statusCode).toBe(200);
    expect(claimsOf(bound.json().token).cnf).toEqual({ jkt: laptop.thumbprint });
    const stranger = await deviceKey();
    const notActive = await keyPost(
      store,
      '/v1/licenses/refresh',
      purchase.key,
      { thumbprint: stranger.thumbprint },
      { device: stranger },
    );
    expect(notActive.statusCode).toBe(404);
  });

  test('the current token is reused until a change or its refresh time', async () => {
    const purchase = await buy(store);
    const first = await keyGet(store, '/v1/licenses/token', purchase.key);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ token: purchase.token, seq: 0, format: 'cwt' });
    const jwt = await keyGet(store, '/v1/licenses/token?format=jwt', purchase.key);
    expect(jwt.json()).toMatchObject({ seq: 1, format: 'jwt' });
    store.clock.advance(DAY_MS);
    const later = await keyGet(store, '/v1/licenses/token?format=jwt', purchase.key);
    expect(later.json().seq).toBe(2);
  });

  test('revoked licenses answer 403 on refresh, activation and status', async () => {
    const purchase = await buy(store);
    await store.db.query(`UPDATE licenses SET status = 'revoked', revoked_at = $2 WHERE id = $1`, [
      purchase.licenseId,
      store.clock.now(),
    ]);
    const refresh = await keyPost(store, '/v1/licenses/refresh', undefined, {
      token: purchase.token,
    });
    expect(refresh.statusCode).toBe(403);
    expect(refresh.json().error.code).toBe('LICENSE_REVOKED');
    expect((await keyPost(store, '/v1/licenses/refresh', purchase.key, {})).statusCode).toBe(403);
    expect((await activate(store, purchase.key, await deviceKey())).statusCode).toBe(403);
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).statusCode).toBe(403);
  });

  test('tampered and foreign tokens are refused with 4xx', async () => {
    const purchase = await buy(store, { format: 'jwt' });
    const token = purchase.token!;
    const variants = [
      token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41),
      token.slice(0, -3) + (token.at(-3) === 'A' ? 'B' : 'A') + token.slice(-2),
      `${token}x`,
      'not-a-token',
      'a.b.c',
    ];
    const cwt = (await buy(store)).token!;
    variants.push(cwt.slice(0, 30) + (cwt[30] === 'A' ? 'B' : 'A') + cwt.slice(31));
    for (const variant of variants) {
      const answer = await keyPost(store, '/v1/licenses/refresh', undefined, { token: variant });
      expect(answer.statusCode, variant).toBeGreaterThanOrEqual(400);
      expect(answer.statusCode, variant).toBeLessThan(500);
    }
  });

  test('unknown keys are 404, and the 11th failed lookup of a client is 429', async () => {
    const client = '203.0.113.7';
    for (let attempt = 1; attempt <= 10; attempt++) {
      const answer = await keyGet(store, '/v1/licenses/status', 'LK-NOPE-NOPE', client);
      expect(answer.statusCode).toBe(404);
      expect(answer.json().error.code).toBe('LICENSE_NOT_FOUND');
    }
    const blocked = await keyGet(store, '/v1/licenses/status', 'LK-NOPE-NOPE', client);
    expect(blocked.statusCode).toBe(429);
    // Another client is not affected.
    expect((await keyGet(store, '/v1/licenses/status', 'LK-NOPE', '203.0.113.8')).statusCode).toBe(
      404,
    );
    const noKey = await store.app.inject({ method: 'GET', url: '/v1/licenses/status' });
    expect(noKey.statusCode).toBe(401);
  });

  test('hostile bodies get 400, 413 or 415, never 500', async () => {
    const purchase = await buy(store);
    const auth = { authorization: `Bearer ${purchase.key}` };
    const cases: { headers: Record<string, string>; payload: string; expected: number }[] = [
      { headers: { 'content-type': 'application/json' }, payload: '{', expected: 400 },
      { headers: { 'content-type': 'application/json' }, payload: '[]', expected: 400 },
      { headers: { 'content-type': 'application/json' }, payload: '{"token":42}', expected: 400 },
      {
        headers: { 'content-type': 'application/json' },
        payload: '{"token":"x","extra":1}',
        expected: 400,
      },
      {
        headers: { 'content-type': 'application/json' },
        payload: '{"__proto__":{"admin":true}}',
        expected: 400,
      },
      {
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ token: 'x'.repeat(20_000) }),
        expected: 413,
      },
      { headers: { 'content-type': 'text/plain' }, payload: 'token=x', expected: 415 },
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=x',
        expected: 415,
      },
    ];
    for (const { headers, payload, expected } of cases) {
      for (const url of ['/v1/licenses/refresh', '/v1/licenses/activate']) {
        const answer = await store.app.inject({
          method: 'POST',
          url,
          headers: { ...auth, ...headers },
          payload,
        });
        expect(answer.statusCode, `${url} ${payload.slice(0, 40)}`).toBe(expected);
        expect(answer.json().error.code).toBeTypeOf('string');
      }
    }
    const badJwk = await keyPost(store, '/v1/licenses/activate', purchase.key, {
      device: { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'short' } },
    });
    expect(badJwk.statusCode).toBe(400);
    const privateJwk = await keyPost(store, '/v1/licenses/activate', purchase.key, {
      device: { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), d: 'A'.repeat(43) } },
    });
    expect(privateJwk.statusCode).toBe(400);
  });

  test('the OpenAPI document lists the licensing routes', async () => {
    const docs = (await store.app.inject({ url: '/docs' })).json();
    for (const path of [
      '/v1/checkout',
      '/v1/licenses/activate',
      '/v1/licenses/deactivate',
      '/v1/licenses/refresh',
      '/v1/licenses/status',
      '/v1/licenses/token',
      '/v1/licenses/plan',
      '/v1/licenses/seats',
      '/v1/licenses/cancel',
      '/v1/licenses/cancel/undo',
      '/v1/webhooks/payments/{provider}',
    ]) {
      expect(docs.paths[path], path).toBeDefined();
    }
    expect(Object.keys(docs.paths['/v1/licenses/refresh'].post.responses)).toEqual(
      expect.arrayContaining(['200', '401', '402', '403', '404', '413', '415', '429']),
    );
  });
});
