import { ConfigurationError } from '../config.js';

/**
 * Settings of the Stripe provider (payments/stripe.ts), from the environment:
 *
 * - `STRIPE_SECRET_KEY`: the API key (`sk_test_…`/`sk_live_…`, or a restricted `rk_…`).
 *   A test-mode key makes every order and license through Stripe a test one.
 * - `STRIPE_WEBHOOK_SECRET`: the signing secret of the webhook endpoint (`whsec_…`).
 * - `STRIPE_API_BASE` (optional): where the SDK sends API calls instead of
 *   https://api.stripe.com, as `http(s)://host[:port]` (stripe-mock, or the recorded-fixture
 *   server of the tests).
 *
 * Both the key and the secret, or neither: a store that could create sessions but never
 * learn they were paid (or the reverse) would leave every order pending.
 */
export interface StripeConfig {
  secretKey: string;
  webhookSecret: string;
  api: { host: string; port: number; protocol: 'http' | 'https' } | undefined;
  /** Retries of a failed API call (the SDK re-sends with the same idempotency key). */
  maxNetworkRetries: number;
  /**
   * Per API call, ms (default 8 s): the checkout answer waits on Stripe after its order
   * committed, and three tries of 8 s stay within the store's 30 s request timeout.
   */
  timeoutMs: number;
}

export type StripeInput = Partial<StripeConfig> & { apiBase?: string | undefined };

const SECRET_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,250}$/;
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/=_-]{8,250}$/;

/** Undefined when Stripe is not configured (the provider is then not registered). */
export function stripeConfig(
  input: StripeInput | undefined,
  env: NodeJS.ProcessEnv,
): StripeConfig | undefined {
  const secretKey = input?.secretKey ?? (env.STRIPE_SECRET_KEY || undefined);
  const webhookSecret = input?.webhookSecret ?? (env.STRIPE_WEBHOOK_SECRET || undefined);
  if (secretKey === undefined && webhookSecret === undefined) return undefined;
  if (secretKey === undefined || webhookSecret === undefined) {
    throw new ConfigurationError(
      'Stripe needs both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither)',
    );
  }
  // The messages never repeat the values: they are secrets.
  if (!SECRET_KEY.test(secretKey)) {
    throw new ConfigurationError('STRIPE_SECRET_KEY is not a Stripe secret key (sk_… or rk_…)');
  }
  if (!WEBHOOK_SECRET.test(webhookSecret)) {
    throw new ConfigurationError('STRIPE_WEBHOOK_SECRET is not a webhook signing secret (whsec_…)');
  }
  const apiBase = input?.apiBase ?? (env.STRIPE_API_BASE || undefined);
  return {
    secretKey,
    webhookSecret,
    api: input?.api ?? (apiBase === undefined ? undefined : parseApiBase(apiBase)),
    maxNetworkRetries: input?.maxNetworkRetries ?? 2,
    timeoutMs: input?.timeoutMs ?? 8_000,
  };
}

function parseApiBase(base: string): NonNullable<StripeConfig['api']> {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigurationError('STRIPE_API_BASE must be a URL like http://127.0.0.1:12111');
  }
  const protocol = url.protocol.slice(0, -1);
  if (
    (protocol !== 'http' && protocol !== 'https') ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new ConfigurationError('STRIPE_API_BASE must be http(s)://host[:port] without a path');
  }
  const port = url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port);
  // URL keeps IPv6 hosts bracketed; Node's http.request wants them bare.
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol };
}
