import type { VerifyStatus } from './result.js';

/** One sentence per status for people; the stable `reason` carries the detail for code. */
export const STATUS_MESSAGES: Readonly<Record<VerifyStatus, string>> = {
  malformed: 'The license token is damaged or not a license.',
  untrusted_key: 'The license signer is not trusted.',
  invalid_signature: 'The license signature is invalid.',
  revoked: 'The license is revoked.',
  wrong_product: 'The license is for another product.',
  wrong_device: 'The license is for another device.',
  rolled_back: 'A newer license token was already seen.',
  clock_tampered: 'The clock is behind a time already seen.',
  not_yet_valid: 'The license is not valid yet.',
  expired: 'The license has expired.',
  grace: 'The license has expired (grace period).',
  refresh_due: 'The license is due for refresh.',
  trial: 'The trial is active.',
  active: 'The license is active.',
};
