import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Secrets } from '../lib/secrets.js';

/**
 * The secret a queued mail carries (a receipt's license key, a sign-in link's token),
 * sealed with AES-256-GCM under HKDF(store secret, mail id) and bound to the mail id as
 * associated data: the database alone cannot read it, and a sealed value moved to another
 * row does not open. The worker must open it without anything the customer holds, so —
 * unlike a saved checkout answer, whose key also needs the Idempotency-Key — the store
 * secret and the database together can; the outbox therefore erases it once the mail is
 * sent or given up (services/mail-outbox.ts).
 */

const DOMAIN = 'mail-outbox';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealMailSecret(secrets: Secrets, mailId: string, secret: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', secrets.deriveKey(DOMAIN, mailId), iv);
  cipher.setAAD(Buffer.from(mailId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** @throws Error when the sealed value was altered or belongs to another mail */
export function openMailSecret(secrets: Secrets, mailId: string, sealed: Uint8Array): string {
  const bytes = Buffer.from(sealed);
  const decipher = createDecipheriv(
    'aes-256-gcm',
    secrets.deriveKey(DOMAIN, mailId),
    bytes.subarray(0, IV_BYTES),
  );
  decipher.setAAD(Buffer.from(mailId));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
