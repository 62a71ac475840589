/**
 * The compact entry keeps no ledger: its results must show what the main entry shows for
 * a license with nothing spent, quotas included (used 0, the current period's end), at
 * any time of the license's life.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  signLicense,
  T0,
} from '../../../test/support/tokens.js';
import { createVerifier as createCompactVerifier } from './compact.js';
import { createVerifier } from './index.js';
import { memoryState } from './state/memory.js';

describe('the compact entry', () => {
  const issuer = generateTestKey();
  const token = signLicense(
    issuer,
    licenseClaims({
      exp: T0 + 500 * DAY,
      quota: {
        exports: { limit: 1000, per: 'month' },
        daily: { limit: 5, per: 'day' },
        seats: { limit: 3 },
        unlimited: { unlimited: true },
      },
    }),
    { format: 'cwt' },
  );

  it.each([-DAY, 0, DAY, 45 * DAY + 3_600, 400 * DAY])(
    'shows the quotas as the main entry does before any use (%i s after T0)',
    async (offset) => {
      const clock = () => (T0 + offset) * 1000;
      const options = { trust: { issuers: [issuer.jwk] }, product: PRODUCT, clock };
      const compact = await createCompactVerifier(options).verify(token);
      const full = await createVerifier({ ...options, state: memoryState() }).verify(token);
      expect(compact.quotas).toEqual(full.quotas);
      expect(compact.quotas.exports?.resetsAt).toBeInstanceOf(Date);
      expect(compact.quotas.exports?.resetsAt?.getTime()).toBeGreaterThan(clock());
      expect(compact.quotas.daily?.resetsAt?.getTime()).toBeLessThanOrEqual(clock() + DAY * 1000);
      expect(compact.quotas.seats).toMatchObject({ used: 0, remaining: 3, resetsAt: null });
    },
  );
});
