import { join } from 'node:path';
import type { DeviceKey } from '@licensekit/verifier';
import { createVerifier, signWithDevice, USAGE_REPORT_TYPE } from '@licensekit/verifier';
import { fileDeviceKey } from '@licensekit/verifier/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seconds } from '../../lib/clock.js';
import { licenseEventData } from '../../services/licensing.js';
import { overuseStep, quotaOveruse } from '../../services/usage.js';
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
      overuse: 0,
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

  describe('use past the limit, reported from offline counts', () => {
    const JANUARY = '2026-01-10T00:00:00.000Z';
    const FEBRUARY = '2026-02-10T00:00:00.000Z';
    const monthly = () =>
      createLicense(store.app, {
        periodStart: MONTH_START,
        periodEnd: new Date(Date.UTC(2026, 1, 10)),
      });
    /** A plain report of `used` exports in the window starting at `window`, with the key. */
    const report = (owner: LicenseFixture, used: number, window = MONTH_START) =>
      post(
        {
          license: owner.license.id,
          product: 'photon',
          seq: 0,
          generatedAt: seconds(store.clock.now()),
          device: 'offline-laptop',
          quotas: { exports: { used, window: seconds(window) } },
        },
        bearer(owner.key),
      );
    const stateOf = async (owner: LicenseFixture) =>
      (await store.app.inject({ url: '/v1/licenses/quotas', headers: bearer(owner.key) })).json()
        .quotas.exports;
    const eventsOf = async (owner: LicenseFixture, type: string) =>
      (await events(type)).filter((data) => data.licenseId === owner.license.id);

    test('5,000 reported against 1,000: recorded as 5,000, overuse 4,000, one quota.overused, admin sees it', async () => {
      const owner = await monthly();
      expect((await report(owner, 5000)).statusCode).toBe(202);
      expect(await stateOf(owner)).toEqual({
        limit: 1000,
        unlimited: false,
        used: 5000,
        remaining: 0,
        overuse: 4000,
        windowStart: JANUARY,
        resetsAt: FEBRUARY,
      });
      const overused = await eventsOf(owner, 'quota.overused');
      expect(overused).toEqual([
        licenseEventData(owner.license, {
          quota: 'exports',
          limit: 1000,
          used: 5000,
          overuse: 4000,
          windowStart: JANUARY,
          resetsAt: FEBRUARY,
        }),
      ]);
      // quota.exhausted goes out as before (once); quota.low is skipped, as for any jump past 100 %.
      expect(await eventsOf(owner, 'quota.exhausted')).toEqual([
        expect.objectContaining({ used: 5000, remaining: 0 }),
      ]);

      // A replay of the same report changes nothing and sends nothing.
      expect((await report(owner, 5000)).statusCode).toBe(202);
      expect(await eventsOf(owner, 'quota.overused')).toHaveLength(1);
      expect(await eventsOf(owner, 'quota.exhausted')).toHaveLength(1);
      expect((await stateOf(owner)).used).toBe(5000);

      const detail = await store.app.inject({
        url: `/v1/admin/licenses/${owner.license.id}`,
        headers: ADMIN,
      });
      expect(detail.statusCode).toBe(200);
      expect(detail.json().quotas.exports).toEqual(await stateOf(owner));
    });

    test('a growing overuse is announced again each time it crosses a power of two', async () => {
      const owner = await monthly();
      await report(owner, 5000); // overuse 4,000 (step 11: 2,048–4,095)
      await report(owner, 6000); // 5,000: crossed 4,096
      await report(owner, 9000); // 8,000: still below 8,192
      await report(owner, 9200); // 8,200: crossed 8,192, more than double the first notice
      const overuses = (await eventsOf(owner, 'quota.overused')).map((data) => data.overuse);
      expect(overuses).toEqual([4000, 5000, 8200]);
    });

    test('two devices reporting at once: the second is judged on the total of both', async () => {
      const owner = await monthly();
      const fromDevice = (device: string) =>
        post(
          {
            license: owner.license.id,
            product: 'photon',
            seq: 0,
            generatedAt: seconds(store.clock.now()),
            device,
            quotas: { exports: { used: 3000, window: seconds(MONTH_START) } },
          },
          bearer(owner.key),
        );
      const answers = await Promise.all([fromDevice('desk'), fromDevice('laptop')]);
      expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202]);
      expect(await stateOf(owner)).toMatchObject({ used: 6000, overuse: 5000 });
      // 2,000 over after the first (step 10), 5,000 after both (step 12): both announced.
      const overuses = (await eventsOf(owner, 'quota.overused')).map((data) => data.overuse);
      expect(overuses).toEqual([2000, 5000]);
    });

    test('a late report for a window that is over is still flagged, in that window', async () => {
      const owner = await monthly();
      await report(owner, 900);
      store.clock.set(Date.UTC(2026, 1, 12)); // February's window
      try {
        expect((await report(owner, 3000)).statusCode).toBe(202); // January's count, late
        expect(await eventsOf(owner, 'quota.overused')).toEqual([
          expect.objectContaining({
            used: 3000,
            overuse: 2000,
            windowStart: JANUARY,
            resetsAt: FEBRUARY,
          }),
        ]);
        // Warnings are about the window in progress: none for January's now.
        expect(await eventsOf(owner, 'quota.exhausted')).toEqual([]);
        expect(await stateOf(owner)).toMatchObject({ used: 0, overuse: 0, windowStart: FEBRUARY });
      } finally {
        store.clock.set(Date.UTC(2026, 0, 15, 12));
      }
    });

    test('within the limit: overuse 0 and no quota.overused; unlimited: overuse null', async () => {
      const within = await monthly();
      await report(within, 1000);
      expect(await stateOf(within)).toMatchObject({ used: 1000, remaining: 0, overuse: 0 });
      expect(await eventsOf(within, 'quota.exhausted')).toHaveLength(1);
      expect(await eventsOf(within, 'quota.overused')).toEqual([]);

      const unlimited = await createLicense(store.app, { planId: 'team-yearly' });
      expect((await report(unlimited, 5000, unlimited.license.anchor)).statusCode).toBe(202);
      expect(await stateOf(unlimited)).toMatchObject({
        limit: null,
        unlimited: true,
        used: 5000,
        remaining: null,
        overuse: null,
      });
      expect(await eventsOf(unlimited, 'quota.overused')).toEqual([]);
    });
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

describe('overuse arithmetic', () => {
  const counts = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

  test('overuse = max(0, used − limit), and remaining + used − overuse = limit', () => {
    fc.assert(
      fc.property(counts, counts, (limit, used) => {
        const overuse = quotaOveruse(limit, used)!;
        const remaining = Math.max(0, limit - used); // the QuotaState's remaining
        expect(overuse).toBe(Math.max(0, used - limit));
        expect(overuse).toBeGreaterThanOrEqual(0);
        expect(remaining + used - overuse).toBe(limit);
        expect(quotaOveruse(null, used)).toBeNull();
      }),
    );
  });

  test('an overuse that at least doubles always reaches a new notice step', () => {
    const overuses = fc.integer({ min: 1, max: Math.floor(Number.MAX_SAFE_INTEGER / 2) });
    fc.assert(
      fc.property(overuses, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (a, extra) => {
        const step = overuseStep(a);
        expect(2 ** step).toBeLessThanOrEqual(a);
        expect(a).toBeLessThan(2 ** (step + 1));
        const doubled = Math.min(Number.MAX_SAFE_INTEGER, 2 * a + extra);
        expect(overuseStep(doubled)).toBeGreaterThan(step);
        expect(overuseStep(a + 1)).toBeGreaterThanOrEqual(step); // never goes back as it grows
      }),
    );
  });
});
