import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN, createLicense } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';

const DAY = 86_400_000;

describe.skipIf(postgresUnavailable)('license.expiring_soon', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      licensing: { billing: { enabled: false } },
    });
    await store.app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: ADMIN,
      payload: { url: 'https://hooks.example.test/expiry', events: ['license.expiring_soon'] },
    });
  });
  afterAll(async () => store?.close());

  const sent = async () =>
    (
      await store.db.query<{ payload: { data: { licenseId: string; expiresAt: string } } }>(
        `SELECT payload FROM webhook_outbox WHERE type = 'license.expiring_soon' ORDER BY created_at`,
      )
    ).map((row) => row.payload.data);

  test('once per license and period, only for licenses in good standing ending within 7 days', async () => {
    const { app, clock } = store;
    const now = clock.now().getTime();
    const soon = await createLicense(app, {
      periodStart: new Date(now - 27 * DAY),
      periodEnd: new Date(now + 3 * DAY),
    });
    await createLicense(app, { periodEnd: new Date(now + 10 * DAY) });
    await createLicense(app, { periodEnd: new Date(now + 2 * DAY), status: 'expired' });
    await createLicense(app, { periodEnd: null });
    await createLicense(app, { periodEnd: new Date(now - DAY) });

    // Two instances running the job at the same moment still send one notice.
    const runs = await Promise.all([app.runOperationsJobs(), app.runOperationsJobs()]);
    expect(runs[0]!.expiringSoon + runs[1]!.expiringSoon).toBe(1);
    expect((await app.runOperationsJobs()).expiringSoon).toBe(0);
    const events = await sent();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      licenseId: soon.license.id,
      productId: 'photon',
      planId: 'pro-monthly',
      status: 'active',
      expiresAt: new Date(now + 3 * DAY).toISOString(),
      customerId: soon.customerId,
    });

    // Renewed: the next period gets its own notice when its end comes near.
    await store.db.query('UPDATE licenses SET period_end = $2 WHERE id = $1', [
      soon.license.id,
      new Date(now + 33 * DAY),
    ]);
    clock.advance(27 * DAY);
    try {
      await app.runOperationsJobs();
      const after = await sent();
      expect(after.filter((e) => e.licenseId === soon.license.id)).toHaveLength(2);
    } finally {
      clock.advance(-27 * DAY);
    }
  });
});
