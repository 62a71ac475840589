/**
 * The `reason`s and messages of a `not_logged` result (requireLogProof). Not in
 * messages.ts: bundlers split code by file, so only the log-proof chunk, loaded on first
 * use, carries them.
 */
export type NotLoggedReason =
  | 'log_proof_missing'
  | 'log_proof_invalid'
  | 'log_key_untrusted'
  | 'not_included';

/** One sentence per reason, since the remedy differs (fetch a proof, trust the log's key …). */
export const LOG_PROOF_MESSAGES: Readonly<Record<NotLoggedReason, string>> = {
  log_proof_missing: 'The license has no issuance log proof.',
  log_proof_invalid: 'The issuance log proof of the license is damaged.',
  log_key_untrusted: 'The issuance log proof is not signed by a trusted log key.',
  not_included: 'The issuance log proof does not show this license in the log.',
};
