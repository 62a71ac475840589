import { ConfigurationError } from './config.js';
import { envSwitch } from './config-operations.js';
import type { StripeConfig, StripeInput } from './payments/stripe-config.js';
import { stripeConfig } from './payments/stripe-config.js';

/**
 * Settings of the store's licensing part: the secrets of signed payment webhooks and the
 * billing cycle. Defaults need no set-up; tests turn the billing timer off and call
 * `runBillingCycle` with a manual clock.
 */
export interface LicensingConfig {
  /**
   * Per payment provider (a real processor), the secret its webhooks are signed with
   * (Standard Webhooks: `whsec_<base64>`, or any other string used as is). Each name is
   * also a checkout provider whose orders wait for that processor's `order.paid`.
   * From LICENSEKIT_PAYMENT_WEBHOOK_SECRET_<NAME> (name lower-cased, `_` → `-`).
   */
  paymentWebhookSecrets: Record<string, string>;
  /** The Stripe provider, when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set. */
  stripe: StripeConfig | undefined;
  /**
   * Whether the `test` provider takes orders: it pays at once and moves no money, and the
   * tokens of its licenses are as valid as any, so a store that takes real money must not
   * offer it to every buyer. LICENSEKIT_TEST_PAYMENTS=on|off; by default on only while no
   * real processor is configured (Stripe, a signed-webhook processor) and NODE_ENV is
   * not `production`.
   */
  testPayments: boolean;
  billing: {
    /** Run the billing cycle on a timer in this instance. Default true. */
    enabled: boolean;
    /** How often. Default 60 s (LICENSEKIT_BILLING_INTERVAL_MS). */
    intervalMs: number;
  };
}

export interface LicensingInput {
  paymentWebhookSecrets?: Record<string, string> | undefined;
  stripe?: StripeInput | undefined;
  testPayments?: boolean | undefined;
  billing?: Partial<LicensingConfig['billing']> | undefined;
}

const SECRET_PREFIX = 'LICENSEKIT_PAYMENT_WEBHOOK_SECRET_';
const PROVIDER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Names the store's own providers use; a webhook provider cannot take them. */
const BUILT_IN_PROVIDERS = new Set(['test', 'manual', 'stripe']);

export function licensingConfig(
  input: LicensingInput = {},
  env: NodeJS.ProcessEnv = process.env,
): LicensingConfig {
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(SECRET_PREFIX) || !value) continue;
    secrets[name.slice(SECRET_PREFIX.length).toLowerCase().replace(/_/g, '-')] = value;
  }
  Object.assign(secrets, input.paymentWebhookSecrets ?? {});
  for (const [name, secret] of Object.entries(secrets)) {
    if (!PROVIDER_NAME.test(name) || BUILT_IN_PROVIDERS.has(name)) {
      throw new ConfigurationError(`"${name}" cannot name a payment provider`);
    }
    if (secret.length < 16) {
      throw new ConfigurationError(`the webhook secret of payment provider "${name}" is too short`);
    }
  }
  const envInterval = env.LICENSEKIT_BILLING_INTERVAL_MS;
  const intervalMs = input.billing?.intervalMs ?? (envInterval ? Number(envInterval) : 60_000);
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new ConfigurationError('the billing interval must be a whole number of ms ≥ 1');
  }
  const stripe = stripeConfig(input.stripe, env);
  const takesRealMoney = stripe !== undefined || Object.keys(secrets).length > 0;
  return {
    paymentWebhookSecrets: secrets,
    stripe,
    testPayments:
      input.testPayments ??
      envSwitch(env, 'LICENSEKIT_TEST_PAYMENTS') ??
      (!takesRealMoney && env.NODE_ENV !== 'production'),
    billing: {
      enabled: input.billing?.enabled ?? env.LICENSEKIT_BILLING_ENABLED !== 'false',
      intervalMs,
    },
  };
}
