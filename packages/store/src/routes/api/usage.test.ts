import { join } from 'node:path';
import type { DeviceKey } from '@licensekit/verifier';
import { createVerifier, signWithDevice, USAGE_REPORT_TYPE } from '@licensekit/verifier';
import { fileDeviceKey } from '@licensekit/verifier/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LicenseFixture } from '../../testing/fixtures.js';
import { ADMIN, addDevice, bearer, createLicense, issueToken } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { activate, buy, deviceKey, storeVerifier } from '../../testing/licensing.js';

const MONTH_START = new Date(Date.UTC(2026, 0, 10)); // anchor: the 10th of each month

describe.skipIf(postgresUnavailable)('usage reports and quota state', () => {
  let store: TestStore;
  let fixture: LicenseFixture;
  let device: DeviceKey;
  let token: string;
  let verifier: ReturnType<typeof createVerifier>;

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      licensing: { billing: { enabled: false } },
    });
    const { app } = store;
    // Every event type goes to one endpoint; the worker is off, so the outbox keeps them.
    await app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: ADMIN,
      payload: { url: 'https://hooks.example.test/in' },
    });
    fixture = await createLicense(app, {
      periodStart: MONTH_START,
      periodEnd: new Date(Date.UTC(2026, 1, 10)),
    });
    device = await fileDeviceKey(join(store.dataDir, 'device.json'));
    await addDevice(app.db, fixture.license.id, device);
    token = await issueToken(app, fixture.license, {
      cnf: { jkt: device.thumbprint },
      quota: { exports: { limit: 1000, per: 'month' } },
    });
    verifier = createVerifier({
      trust: { roots: [app.keys.rootPublicJwk] },
      product: 'photon',
      device,
      clock: () => store.clock.now(),
    });
  });
  afterAll(async () => store?.close());

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    store.app.inject({
      method: 'POST',
      url: '/v1/licenses/usage',
      headers,
      payload: payload as object,
    });
  const quotas = async () => {
    const response = await store.app.inject({
      url: '/v1/licenses/quotas',
      headers: bearer(fixture.key),
    });
    expect(response.statusCode).toBe(200);
    return response.json().quotas;
  };
  const events = async (type: string) =>
    (
      await store.db.query<{ payload: { data: Record<string, unknown> } }>(
        'SELECT payload FROM webhook_outbox WHERE type = $1 ORDER BY created_at',
        [type],
      )
    ).map((row) => row.payload.data);

  test('a report signed by the device key, made by the real verifier, is recorded', async () => {
    expect((await verifier.consume(token, 'exports', 5)).granted).toBe(true);
    const outcome = await verifier.usageReport(token);
    expect(outcome.signed).toBeDefined();
    const response = await post({ signed: outcome.signed });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({
      license: fixture.license.id,
      accepted: ['exports'],
      ignored: [],
    });
    expect((await quotas()).exports).toEqual({
      limit: 1000,
      unlimited: false,
      used: 5,
      remaining: 995,
      windowStart: '2026-01-10T00:00:00.000Z',
      resetsAt: '2026-02-10T00:00:00.000Z',
    });
  });

  test('counts are cumulative: a replayed or older report never lowers them', async () => {
    const older = (await verifier.usageReport(token)).signed!;
    await verifier.consume(token, 'exports', 3);
    const newer = (await verifier.usageReport(token)).signed!;
    expect((await post({ signed: newer })).statusCode).toBe(202);
    expect((await post({ signed: older })).statusCode).toBe(202);
    expect((await post({ signed: newer })).statusCode).toBe(202);
    expect((await quotas()).exports.used).toBe(8);
  });

  test('an unsigned report with the license key adds another device; unknown quotas are ignored', async () => {
    const { report } = await verifier.usageReport(token);
    const response = await post(
      {
        ...report,
        device: 'laptop-2',
        quotas: {
          exports: { used: 12, window: report!.quotas.exports!.window },
          nope: { used: 1, window: 0 },
        },
      },
      bearer(fixture.key),
    );
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ accepted: ['exports'], ignored: ['nope'] });
    expect((await quotas()).exports).toMatchObject({ used: 20, remaining: 980 });
  });

  test('reports not signed by an active device of the license are refused', async () => {
    const { report, signed } = await verifier.usageReport(token);
    const stranger = await fileDeviceKey(join(store.dataDir, 'stranger.json'));
    const forged = await signWithDevice(stranger, USAGE_REPORT_TYPE, {
      ...report,
      device: stranger.thumbprint,
    });
    expect((await post({ signed: forged })).json().error.code).toBe('USAGE_REPORT_UNTRUSTED');
    // A device's key signing a report that claims more: the signature no longer covers it.
    const [h, , s] = signed!.split('.');
    const inflated = Buffer.from(
      JSON.stringify({ ...report, quotas: { exports: { used: 999, window: 0 } } }),
    ).toString('base64url');
    const tampered = await post({ signed: `${h}.${inflated}.${s}` });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json().error.code).toBe('USAGE_REPORT_UNTRUSTED');
    const wrongType = await signWithDevice(device, 'lic+jwt', report);
    expect((await post({ signed: wrongType })).json().error.code).toBe('USAGE_REPORT_INVALID');
    expect((await post({ signed: 'a.b' })).json().error.code).toBe('USAGE_REPORT_INVALID');
    expect((await post({ signed: '%%%.%%%.%%%' })).json().error.code).toBe('USAGE_REPORT_INVALID');

    // After deactivation the device's reports are no longer accepted.
    await store.db.query('UPDATE devices SET deactivated_at = now() WHERE thumbprint = $1', [
      device.thumbprint,
    ]);
    const late = await post({ signed });
    expect(late.statusCode).toBe(401);
    await store.db.query('UPDATE devices SET deactivated_at = NULL WHERE thumbprint = $1', [
      device.thumbprint,
    ]);
    expect((await quotas()).exports.used).toBe(20);
  });

  test('unsigned reports need the key of the license they name', async () => {
    const { report } = await verifier.usageReport(token);
    expect((await post(report)).statusCode).toBe(401);
    const other = await createLicense(store.app);
    const response = await post(report, bearer(other.key));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('USAGE_REPORT_INVALID');
    expect((await post(report, bearer('LK-AAAAA-BBBBB-CCCCC'))).json().error.code).toBe(
      'LICENSE_NOT_FOUND',
    );
  });

  test('quota.low at 80 % and quota.exhausted at 100 %, once per window each', async () => {
    const { report } = await verifier.usageReport(token);
    const window = report!.quotas.exports!.window;
    const send = (used: number) =>
      post(
        { ...report, device: 'batch-server', quotas: { exports: { used, window } } },
        bearer(fixture.key),
      );
    await send(700); // 720 in all
    expect(await events('quota.low')).toEqual([]);
    await send(790); // 810: low
    await send(850); // 870: still low, no second event
    const low = await events('quota.low');
    expect(low).toHaveLength(1);
    expect(low[0]).toMatchObject({
      licenseId: fixture.license.id,
      quota: 'exports',
      limit: 1000,
      used: 810,
      remaining: 190,
      resetsAt: '2026-02-10T00:00:00.000Z',
    });
    await send(990); // 1010: exhausted
    await send(995);
    const exhausted = await events('quota.exhausted');
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]).toMatchObject({ used: 1010, remaining: 0 });
    expect((await quotas()).exports).toMatchObject({ used: 1015, remaining: 0 });

    // The next window starts from zero: the old counts do not apply, new events can come.
    store.clock.set(Date.UTC(2026, 1, 12));
    expect((await quotas()).exports).toMatchObject({
      used: 0,
      remaining: 1000,
      windowStart: '2026-02-10T00:00:00.000Z',
      resetsAt: '2026-03-10T00:00:00.000Z',
    });
    store.clock.set(Date.UTC(2026, 0, 15, 12));
  });

  test('hostile bodies get registered 4xx codes', async () => {
    const { report } = await verifier.usageReport(token);
    const key = bearer(fixture.key);
    const cases: [unknown, number][] = [
      [{ ...report, extra: 1 }, 400],
      [{ ...report, quotas: { exports: { used: -1, window: 0 } } }, 400],
      [{ ...report, quotas: { exports: { used: '5', window: 0 } } }, 400],
      [{ ...report, quotas: { exports: { used: 2 ** 60, window: 0 } } }, 400],
      [{ ...report, quotas: { 'bad name!': { used: 1, window: 0 } } }, 400],
      [
        {
          ...report,
          quotas: Object.fromEntries(
            Array.from({ length: 33 }, (_, i) => [`q${i}`, { used: 1, window: 0 }]),
          ),
        },
        400,
      ],
      [{ ...report, generatedAt: 4_000_000_000 }, 400],
      [{ signed: 42 }, 400],
      [{ signed: 'x'.repeat(20_000) }, 400],
      [[], 400],
      [{ ...report, device: 'x'.repeat(40_000) }, 413],
    ];
    for (const [payload, status] of cases) {
      const response = await post(payload, key);
      expect(response.statusCode, JSON.stringify(payload).slice(0, 120)).toBe(status);
      expect(response.json().error.code).toMatch(
        /^(BAD_REQUEST|USAGE_REPORT_INVALID|PAYLOAD_TOO_LARGE)$/,
      );
    }
    const text = await store.app.inject({
      method: 'POST',
      url: '/v1/licenses/usage',
      headers: { ...key, 'content-type': 'application/xml' },
      payload: '<used>5</used>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  test('end to end: bought, activated, used offline, reported with the device key', async () => {
    const purchase = await buy(store);
    const laptop = await deviceKey();
    const activated = await activate(store, purchase.key, laptop);
    expect(activated.statusCode).toBe(200);
    const bound = activated.json().token as string;
    const app = await storeVerifier(store, { device: laptop });
    expect((await app.consume(bound, 'exports', 7)).granted).toBe(true);
    const { signed } = await app.usageReport(bound);
    expect(signed).toBeDefined();
    const response = await post({ signed });
    expect(response.statusCode).toBe(202);
    const state = await store.app.inject({
      url: '/v1/licenses/quotas',
      headers: bearer(purchase.key),
    });
    expect(state.json().quotas.exports).toMatchObject({ limit: 1000, used: 7, remaining: 993 });
  });

  test('quota state needs a license key', async () => {
    const response = await store.app.inject({ url: '/v1/licenses/quotas' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('UNAUTHORIZED');
  });
});
