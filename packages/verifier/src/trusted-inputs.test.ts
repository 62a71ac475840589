/**
 * The verifier runs core's period and status arithmetic in its unchecked forms: its inputs
 * are validated once instead (claims when the token is read, the clock in readClock, a
 * stored quota window when the state is parsed). These pin each of those checks, and that
 * a signed license whose quota anchor lies past its exp gets a result, not an exception.
 */
import { ConfigError, type LicenseClaims } from '@licensekit/core';
import { describe, expect, test } from 'vitest';
import {
  DAY,
  FORMATS,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  signLicense,
  T0,
} from '../../../test/support/tokens.js';
import { createVerifier } from './index.js';
import { emptyState, parseState } from './state/state.js';

describe('inputs the unchecked arithmetic relies on', () => {
  const issuer = generateTestKey();
  const trust = { issuers: [issuer.jwk] };

  test.each([8.64e15 + 1, -8.64e15 - 1, Number.POSITIVE_INFINITY, Number.NaN])(
    'a clock reading of %s ms, outside the Date range, is a ConfigError',
    async (ms) => {
      const token = signLicense(issuer, licenseClaims({}), { format: 'cwt' });
      const verifier = createVerifier({ trust, product: PRODUCT, clock: () => ms });
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(ConfigError);
    },
  );

  test('a stored quota window outside the calendar makes the state unreadable', () => {
    const state = (window: unknown) =>
      JSON.stringify({
        ...emptyState(PRODUCT),
        usage: { lic_1: { exports: { used: 1, window } } },
      });
    expect(parseState(state(T0), PRODUCT)).toBeDefined();
    expect(parseState(state(1e300), PRODUCT)).toBeUndefined();
    expect(parseState(state(8_640_000_000_001), PRODUCT)).toBeUndefined();
    expect(parseState(state(1.5), PRODUCT)).toBeUndefined();
  });

  test.each(FORMATS)('a %s license anchored after its exp gets a result', async (format) => {
    const claims: Partial<LicenseClaims> = {
      exp: T0 + 30 * DAY,
      anchor: T0 + 40 * DAY,
      quota: { exports: { limit: 5, per: 'month' }, builds: { limit: 3 } },
    };
    const token = signLicense(issuer, licenseClaims(claims), { format });
    const verifier = createVerifier({ trust, product: PRODUCT, clock: () => (T0 + DAY) * 1000 });
    const result = await verifier.verify(token);
    expect(result.status).toBe('active');
    expect(result.quotas.exports).toMatchObject({ limit: 5, used: 0, remaining: 5 });
    expect(result.quotas.builds).toMatchObject({ limit: 3, used: 0, remaining: 3 });
  });
});
