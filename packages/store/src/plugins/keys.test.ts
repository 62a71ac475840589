import { decodeDocument, readCertificateClaims } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';

const DAY = 86_400_000;

describe.skipIf(postgresUnavailable)('the store keys', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore();
  });
  afterAll(async () => store?.close());

  test('each token format embeds a certificate of its own format', async () => {
    for (const format of ['jwt', 'cwt'] as const) {
      const { token } = await buy(store, { format });
      const document = decodeDocument(token!, 'license');
      const certificate = decodeDocument(document.certificate!, 'certificate');
      expect(certificate.format).toBe(format);
    }
  });

  test('the certificate is valid from a day back, so a slightly slow app clock accepts it', async () => {
    const claims = readCertificateClaims(decodeDocument(store.app.keys.certificate, 'certificate'));
    expect(claims.nbf).toBeLessThanOrEqual(Math.floor(store.clock.now().getTime() / 1000) - 86_400);
  });

  test('a running store renews its certificate before it ends, and keeps issuing tokens', async () => {
    const before = store.app.keys.certificateExpiresAt;
    // Nothing to do while the end is far away.
    await store.app.recertify();
    expect(store.app.keys.certificateExpiresAt).toBe(before);
    // 20 days before the end: renewed (30 days ahead), in place.
    store.clock.set(before * 1000 - 20 * DAY);
    await store.app.recertify();
    expect(store.app.keys.certificateExpiresAt).toBeGreaterThan(before);
    // After the old end, tokens still come.
    store.clock.set(before * 1000 + DAY);
    const { token } = await buy(store, {});
    expect(token).toBeTypeOf('string');
    const embedded = readCertificateClaims(
      decodeDocument(decodeDocument(token!, 'license').certificate!, 'certificate'),
    );
    expect(embedded.exp).toBe(store.app.keys.certificateExpiresAt);
  });
});
