import type { VerifyStatus } from './result.js';

/** One sentence per status for people; the stable `reason` carries the detail for code. */
export const STATUS_MESSAGES: Readonly<Record<VerifyStatus, string>> = {
  malformed: 'The license token is damaged or not a licensekit license.',
  untrusted_key: 'The license was signed by a key this app does not trust.',
  invalid_signature: 'The license signature does not match its content.',
  revoked: 'This license has been revoked.',
  wrong_product: 'This license is for another product.',
  wrong_device: 'This license is activated on another device.',
  rolled_back: 'An older license token was presented after a newer one.',
  clock_tampered: 'The system clock is earlier than a time this app has already seen.',
  not_yet_valid: 'The license is not valid yet.',
  expired: 'The license has expired.',
  grace: 'The license has expired; it keeps working during the grace period.',
  refresh_due: 'The license is valid; it should be refreshed when online.',
  trial: 'The trial is active.',
  active: 'The license is active.',
};
