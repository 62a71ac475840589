/**
 * @licensekit/verifier/log-proofs: the opt-in for `requireLogProof` (issuance log proofs).
 * An entry of its own, like `@licensekit/verifier/noble`, so the log-proof checker (C2SP
 * signed notes, checkpoints, Merkle inclusion proofs: ≈ 9 KB minified) is not in an app's
 * bundle unless the app asks for it. A bundler that splits code makes the checker a chunk
 * loaded on the first check; a one-file bundle inlines it.
 *
 * @example
 * import { createVerifier } from '@licensekit/verifier';
 * import { enableLogProofs } from '@licensekit/verifier/log-proofs';
 * enableLogProofs(); // before createVerifier({ requireLogProof: true, ... })
 */
import { setLogProofFactory } from './log-proof-loader.js';
import { createLogProofs } from './log-proof-support.js';

/** Lets verifiers created from now on take `requireLogProof: true`. */
export function enableLogProofs(): void {
  setLogProofFactory(createLogProofs);
}
