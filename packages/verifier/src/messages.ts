import type { VerifyStatus } from './result.js';

/**
 * The statuses only the full entry reports: they need the state's marks, a revocation
 * list or a log proof. Their messages are kept apart (and passed explicitly where the
 * verdicts are made) so that the compact entry's bundle does not carry them.
 */
export type FullOnlyStatus = 'not_logged' | 'revoked' | 'rolled_back' | 'clock_tampered';

/** One sentence per status for people; the stable `reason` carries the detail for code. */
export const STATUS_MESSAGES: Readonly<Record<Exclude<VerifyStatus, FullOnlyStatus>, string>> = {
  malformed: 'The license token is damaged or not a license.',
  untrusted_key: 'The license signer is not trusted.',
  invalid_signature: 'The license signature is invalid.',
  wrong_product: 'The license is for another product.',
  wrong_device: 'The license is for another device.',
  not_yet_valid: 'The license is not valid yet.',
  expired: 'The license has expired.',
  grace: 'The license has expired (grace period).',
  refresh_due: 'The license is due for refresh.',
  trial: 'The trial is active.',
  active: 'The license is active.',
};

/** The messages of the statuses that need the state (see FullOnlyStatus). */
export const STATE_MESSAGES = {
  revoked: 'The license is revoked.',
  rolled_back: 'A newer license token was already seen.',
  clock_tampered: 'The clock is behind a time already seen.',
} as const;
