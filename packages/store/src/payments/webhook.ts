import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PaymentProvider } from './provider.js';

/**
 * Real payment processors, reached through signed webhooks. A checkout through such a
 * provider leaves the order pending with its own id as the processor reference (the
 * processor's payment session carries it as metadata); the processor then posts
 * `order.paid` or `order.failed` for that reference to /v1/webhooks/payments/<name>,
 * signed as Standard Webhooks prescribes (https://www.standardwebhooks.com/):
 *
 *   webhook-id: msg_…        webhook-timestamp: <seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256(secret, id + "." + timestamp + "." + body)>
 *
 * (several space-separated signatures while a secret rotates).
 */
export function webhookProvider(name: string): PaymentProvider {
  return {
    name,
    test: false,
    async charge(request) {
      return { status: 'pending', reference: request.orderId };
    },
  };
}

/** Accepted distance between webhook-timestamp and now, seconds (Standard Webhooks). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface SignedWebhook {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Uint8Array;
}

/** The HMAC key of a secret: `whsec_<base64>` is base64-decoded, anything else used as is. */
function secretBytes(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** The `v1,<base64>` signature of a message (what a processor sends; tests use it too). */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretBytes(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/**
 * Why a webhook is refused, or undefined when its signature is good and its timestamp
 * within the tolerance. Signatures are compared in constant time.
 */
export function webhookProblem(
  secret: string,
  message: SignedWebhook,
  nowSeconds: number,
): string | undefined {
  const { id, timestamp, signature } = message;
  if (!id || !timestamp || !signature)
    return 'webhook-id, webhook-timestamp and webhook-signature are required';
  if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id)) return 'webhook-id is not valid';
  if (!/^\d{1,12}$/.test(timestamp)) return 'webhook-timestamp is not a number of seconds';
  if (Math.abs(nowSeconds - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) {
    return 'webhook-timestamp is outside the tolerance';
  }
  const expected = createHmac('sha256', secretBytes(secret))
    .update(`${id}.${timestamp}.`)
    .update(message.body)
    .digest();
  for (const entry of signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const candidate = Buffer.from(value, 'base64');
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
      return undefined;
    }
  }
  return 'no webhook-signature matches';
}
