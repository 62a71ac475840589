import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDocument, readLicenseClaims } from '@licensekit/core';
import { createRevocationList, createSigner, readPrivateKeyFile } from '@licensekit/issuer';
import { createVerifier } from '@licensekit/verifier';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LicenseFixture } from '../../testing/fixtures.js';
import { ADMIN, createLicense, issueToken } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { buy } from '../../testing/licensing.js';

const OPTIONS = {
  operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
  licensing: { billing: { enabled: false } },
};

describe.skipIf(postgresUnavailable)('revocation lists', () => {
  let store: TestStore;
  let fixture: LicenseFixture;
  let token: string;
  let verifier: ReturnType<typeof createVerifier>;

  beforeAll(async () => {
    store = await buildTestStore(OPTIONS);
    fixture = await createLicense(store.app);
    token = await issueToken(store.app, fixture.license);
    // The app's view: it embeds only the root public key, as served by /v1/keys.
    const keys = (await store.app.inject({ url: '/v1/keys' })).json();
    verifier = createVerifier({
      trust: { roots: keys.roots },
      product: 'photon',
      clock: () => store.clock.now(),
    });
  });
  afterAll(async () => store?.close());

  const current = async () => {
    const response = await store.app.inject({ url: '/v1/revocations' });
    expect(response.statusCode).toBe(200);
    return response.json() as { seq: number; list: string; issuedAt: string };
  };

  test('a verifier that trusts only the root key reports a revoked license as revoked', async () => {
    expect((await verifier.verify(token)).valid).toBe(true);
    const empty = await current();
    expect(empty.seq).toBe(1);
    expect(await verifier.updateRevocations(empty.list)).toMatchObject({
      accepted: true,
      reason: 'applied',
    });

    const revoke = await store.app.inject({
      method: 'POST',
      url: `/v1/admin/licenses/${fixture.license.id}/revoke`,
      headers: ADMIN,
      payload: { reason: 'chargeback' },
    });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json()).toMatchObject({
      license: { id: fixture.license.id, status: 'revoked', revokedAt: expect.any(String) },
      revocationList: { seq: 2 },
    });

    const list = await current();
    expect(list.seq).toBe(2);
    expect(await verifier.updateRevocations(list.list)).toMatchObject({
      accepted: true,
      reason: 'applied',
    });
    const result = await verifier.verify(token);
    expect(result).toMatchObject({ valid: false, status: 'revoked', reason: 'license_revoked' });
    // Online, the store refuses the revoked license at once.
    const refresh = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/refresh',
      headers: { authorization: `Bearer ${fixture.key}` },
      payload: {},
    });
    expect(refresh.statusCode).toBe(403);
    expect(refresh.json().error.code).toBe('LICENSE_REVOKED');
    const [row] = await store.db.query('SELECT kind, value, reason FROM revocations');
    expect(row).toEqual({ kind: 'license', value: fixture.license.id, reason: 'chargeback' });
    // Who revoked it, on the license's admin activity (the API's operator: admin-api).
    expect(
      await store.db.query(
        `SELECT action, actor, detail->>'reason' AS reason FROM admin_actions WHERE target = $1`,
        [fixture.license.id],
      ),
    ).toEqual([{ action: 'license.revoked', actor: 'admin-api', reason: 'chargeback' }]);
    // Revoking again changes nothing and signs no new list.
    await store.app.inject({
      method: 'POST',
      url: `/v1/admin/licenses/${fixture.license.id}/revoke`,
      headers: ADMIN,
    });
    expect((await current()).seq).toBe(2);
  });

  test('single tokens and keys; values are checked', async () => {
    const other = await createLicense(store.app);
    const otherToken = await issueToken(store.app, other.license);
    const { jti } = readLicenseClaims(decodeDocument(otherToken, 'license'));
    const post = (payload: object) =>
      store.app.inject({ method: 'POST', url: '/v1/admin/revocations', headers: ADMIN, payload });
    const created = await post({ kind: 'token', value: jti, reason: 'leaked' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ created: true, list: { seq: 3, source: 'store' } });
    expect((await post({ kind: 'token', value: jti })).json()).toMatchObject({ created: false });
    await verifier.updateRevocations((await current()).list);
    expect(await verifier.verify(otherToken)).toMatchObject({
      status: 'revoked',
      reason: 'token_revoked',
    });

    for (const payload of [
      { kind: 'key', value: 'short' },
      { kind: 'token', value: '!!!' },
      { kind: 'license', value: 'bad\u0001id' },
      { kind: 'bogus', value: 'x' },
      { kind: 'token', value: jti, extra: true },
      { kind: 'token' },
      { kind: 'token', value: 'x'.repeat(200) },
    ]) {
      const response = await post(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      // A control character is refused by the store-wide text rule before the schema.
      expect(response.json().error.code).toBe(
        payload.value?.includes('\u0001') ? 'TEXT_INVALID' : 'BAD_REQUEST',
      );
    }
    const root = store.app.keys.rootPublicJwk.kid;
    expect((await post({ kind: 'key', value: root })).statusCode).toBe(409);
    // Nor the issuer key the store signs with: its tokens would all be refused as revoked.
    const issuing = await post({ kind: 'key', value: store.app.keys.issuer.kid });
    expect(issuing.statusCode).toBe(409);
    expect(issuing.json().error.message).toContain('Rotate the issuer key first');

    const listed = await store.app.inject({ url: '/v1/admin/revocations', headers: ADMIN });
    expect(listed.json()).toMatchObject({ signsLists: true, list: { seq: 3 } });
    expect(
      listed
        .json()
        .revocations.map((r: { kind: string }) => r.kind)
        .sort(),
    ).toEqual(['license', 'token']);
  });

  test('a license revoked through /v1/admin/revocations is on its admin activity', async () => {
    const sold = await createLicense(store.app);
    const revoked = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/revocations',
      headers: ADMIN,
      payload: { kind: 'license', value: sold.license.id, reason: 'fraud' },
    });
    expect(revoked.statusCode).toBe(201);
    expect(
      await store.db.query(
        `SELECT action, actor, detail->>'reason' AS reason FROM admin_actions WHERE target = $1`,
        [sold.license.id],
      ),
    ).toEqual([{ action: 'license.revoked', actor: 'admin-api', reason: 'fraud' }]);
  });

  test('a revoked token is not renewed by a refresh with it', async () => {
    const refreshWith = (leaked: string) =>
      store.app.inject({ method: 'POST', url: '/v1/licenses/refresh', payload: { token: leaked } });
    const post = (payload: object) =>
      store.app.inject({ method: 'POST', url: '/v1/admin/revocations', headers: ADMIN, payload });

    // A leaked (unbound) token is revoked by its jti: whoever holds it must not trade it
    // for a fresh token with a new jti, which no list names.
    const purchase = await buy(store);
    const leaked = purchase.token!;
    const { jti } = readLicenseClaims(decodeDocument(leaked, 'license'));
    expect((await post({ kind: 'token', value: jti, reason: 'leaked' })).statusCode).toBe(201);
    const refused = await refreshWith(leaked);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('LICENSE_REVOKED');
    // The license itself is not revoked: its key still refreshes.
    const byKey = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/refresh',
      headers: { authorization: `Bearer ${purchase.key}` },
      payload: {},
    });
    expect(byKey.statusCode).toBe(200);
    expect((await refreshWith(byKey.json().token)).statusCode).toBe(200);
  });

  test('the list is re-signed when it is half a day old, not before', async () => {
    const { seq } = await current();
    store.clock.advance(11 * 3_600_000);
    expect((await current()).seq).toBe(seq);
    store.clock.advance(2 * 3_600_000);
    const renewed = await current();
    expect(renewed.seq).toBe(seq + 1);
    expect(await verifier.updateRevocations(renewed.list)).toMatchObject({
      accepted: true,
      reason: 'applied',
    });
    expect((await verifier.verify(token)).status).toBe('revoked');
    store.clock.advance(-13 * 3_600_000);
  });

  test('without the root key the store serves lists signed offline and published by the admin', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'licensekit-revocations-'));
    let offline: TestStore | undefined;
    try {
      const first = await buildTestStore({ ...OPTIONS, dataDir });
      const root = await createSigner(await readPrivateKeyFile(join(dataDir, 'keys', 'root.json')));
      const issuer = first.app.keys.issuer;
      await first.close();
      // Production: the root key lives offline; only its public half stays.
      await rm(join(dataDir, 'keys', 'root.json'));
      offline = await buildTestStore({ ...OPTIONS, dataDir });
      const { app } = offline;
      expect((await app.inject({ url: '/v1/revocations' })).json().error.code).toBe(
        'REVOCATION_LIST_NOT_FOUND',
      );
      const revoked = await app.inject({
        method: 'POST',
        url: '/v1/admin/revocations',
        headers: ADMIN,
        payload: { kind: 'license', value: 'lic_offline' },
      });
      expect(revoked.json()).toEqual({ created: true, list: null });
      // A license this store never sold: listed, but no license's activity to write to.
      expect(
        await offline.db.query('SELECT 1 FROM admin_actions WHERE target = $1', ['lic_offline']),
      ).toEqual([]);

      const now = Math.floor(offline.clock.now().getTime() / 1000);
      const list = await createRevocationList({
        signer: root,
        vendor: 'acme',
        seq: 7,
        now,
        next: now + 86_400,
        licenses: ['lic_offline'],
      });
      const publish = (body: object) =>
        app.inject({
          method: 'POST',
          url: '/v1/admin/revocation-lists',
          headers: ADMIN,
          payload: body,
        });
      const published = await publish({ list });
      expect(published.statusCode).toBe(201);
      expect(published.json()).toMatchObject({ seq: 7, source: 'published' });
      expect((await app.inject({ url: '/v1/revocations' })).json()).toMatchObject({ seq: 7, list });

      expect((await publish({ list })).json().error.code).toBe('REVOCATION_LIST_INVALID');
      const byIssuer = await createRevocationList({ signer: issuer, vendor: 'acme', seq: 8, now });
      expect((await publish({ list: byIssuer })).json().error.code).toBe('REVOCATION_LIST_INVALID');
      expect((await publish({ list: 'garbage' })).json().error.code).toBe(
        'REVOCATION_LIST_INVALID',
      );
      expect((await publish({ list: 42 })).statusCode).toBe(400);
      // A list revoking the key the store signs with would make every new token revoked.
      const revokesIssuer = await createRevocationList({
        signer: root,
        vendor: 'acme',
        seq: 9,
        now,
        next: now + 86_400,
        keys: [offline.app.keys.issuer.kid],
      });
      const refused = await publish({ list: revokesIssuer });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.message).toContain('Rotate the issuer key first');
    } finally {
      await offline?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
