import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from './config.js';
import { licensingConfig } from './config-licensing.js';
import type { TestStore } from './testing/harness.js';
import { buildTestStore, postgresUnavailable } from './testing/harness.js';
import { checkoutRequest } from './testing/licensing.js';

// The test provider pays at once and moves no money, and its licenses' tokens are as valid
// as any: offered on a store that takes real money, anyone could skip paying with
// `provider: "test"`.
const PROCESSOR = {
  LICENSEKIT_PAYMENT_WEBHOOK_SECRET_ACMEPAY: 'whsec_b25lIHNlY3JldCBvZiBhY21lcGF5',
};
const STRIPE = {
  STRIPE_SECRET_KEY: 'sk_test_testPaymentsConfig000',
  STRIPE_WEBHOOK_SECRET: `whsec_${Buffer.from('a stripe webhook secret').toString('base64')}`,
};

describe('test payments: on for development only, unless said', () => {
  test('on by default; off once a real processor is configured or NODE_ENV is production', () => {
    expect(licensingConfig({}, {}).testPayments).toBe(true);
    expect(licensingConfig({}, PROCESSOR).testPayments).toBe(false);
    expect(licensingConfig({}, STRIPE).testPayments).toBe(false);
    expect(licensingConfig({}, { NODE_ENV: 'production' }).testPayments).toBe(false);
  });

  test('LICENSEKIT_TEST_PAYMENTS says on or off; anything else is refused', () => {
    expect(licensingConfig({}, { ...PROCESSOR, LICENSEKIT_TEST_PAYMENTS: 'on' }).testPayments).toBe(
      true,
    );
    expect(licensingConfig({}, { LICENSEKIT_TEST_PAYMENTS: 'off' }).testPayments).toBe(false);
    expect(() => licensingConfig({}, { LICENSEKIT_TEST_PAYMENTS: 'yes please' })).toThrow(
      /LICENSEKIT_TEST_PAYMENTS must be on or off/,
    );
  });

  test('the storefront sells through Stripe or manual then, and never through test', () => {
    expect(loadConfig({}, {}).storefrontProvider).toBe('test');
    expect(loadConfig({}, STRIPE).storefrontProvider).toBe('stripe');
    expect(loadConfig({}, PROCESSOR).storefrontProvider).toBe('manual');
    expect(loadConfig({}, { ...STRIPE, LICENSEKIT_STOREFRONT_PROVIDER: 'manual' })).toMatchObject({
      storefrontProvider: 'manual',
    });
    expect(() => loadConfig({}, { ...PROCESSOR, LICENSEKIT_STOREFRONT_PROVIDER: 'test' })).toThrow(
      /test payments are off/,
    );
  });
});

describe.skipIf(postgresUnavailable)('a store whose test payments are off', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore({
      licensing: { testPayments: false, billing: { enabled: false } },
    });
  });
  afterAll(async () => store?.close());

  test('a checkout with the test provider, named or by default, is refused; nothing is made', async () => {
    const email = 'free-rider@example.com';
    for (const body of [
      { productId: 'photon', planId: 'pro-monthly', email },
      { productId: 'photon', planId: 'pro-monthly', email, provider: 'test' },
    ]) {
      const refused = await checkoutRequest(store, body);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.message).toContain('Test payments are off');
    }
    const [made] = await store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1',
      [email],
    );
    expect(made?.n ?? 0).toBe(0);
    const manual = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'pro-monthly',
      email,
      provider: 'manual',
    });
    expect(manual.statusCode).toBe(201);
    expect(manual.json()).toMatchObject({ order: { status: 'pending' }, test: false });
  });
});
