/**
 * @licensekit/verifier/compact: the verifier for CWT tokens only. It leaves the JSON and
 * JWS code out, for the smallest browser and extension bundles.
 */
import { decodeCwtDocument } from '@licensekit/core';
import { createVerifierWith } from './create.js';
import type { Verifier, VerifierOptions } from './types.js';

/** Creates an offline verifier that accepts CWT tokens (a JWT is `malformed`). */
export function createVerifier(options: VerifierOptions): Verifier {
  return createVerifierWith(decodeCwtDocument, options);
}

export * from './exports.js';
