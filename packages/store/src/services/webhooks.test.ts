import { describe, expect, test } from 'vitest';
import { verifyStandardWebhook } from '../testing/fixtures.js';
import { retryDelay } from './outbox.js';
import { newWebhookSecret, signWebhook, webhookHeaders, webhookSecretBytes } from './webhooks.js';

describe('Standard Webhooks signatures', () => {
  test('match the published example of the specification', () => {
    // From the Standard Webhooks reference libraries' tests (standard-webhooks/standard-webhooks).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(
      signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('secrets are whsec_ + base64 of 32 random bytes; an independent verifier accepts them', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretBytes(secret)).toHaveLength(32);
    const body = JSON.stringify({ type: 'license.created', data: { licenseId: 'lic_1' } });
    const headers = webhookHeaders(secret, 'msg_1', 1_800_000_000, body);
    expect(verifyStandardWebhook(secret, headers, body, 1_800_000_010)).toBe(true);
    expect(verifyStandardWebhook(newWebhookSecret(), headers, body, 1_800_000_010)).toBe(false);
    expect(verifyStandardWebhook(secret, headers, `${body} `, 1_800_000_010)).toBe(false);
    expect(verifyStandardWebhook(secret, headers, body, 1_800_000_000 + 301)).toBe(false);
  });

  test('retry delays follow the schedule, with bounded jitter, then give up', () => {
    const schedule = [5_000, 30_000, 120_000];
    expect(retryDelay(schedule, 1, 0)).toBe(5_000);
    expect(retryDelay(schedule, 3, 0)).toBe(120_000);
    expect(retryDelay(schedule, 4, 0)).toBeUndefined();
    expect(retryDelay(schedule, 2, 0.1, () => 0.999)).toBeLessThan(33_000);
    expect(retryDelay(schedule, 2, 0.1, () => 0.999)).toBeGreaterThan(32_900);
  });
});
