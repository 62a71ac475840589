/**
 * @licensekit/verifier: offline verification of licensekit tokens (JWT and CWT) in any
 * JavaScript runtime: Node, browsers and extensions under a strict CSP, Deno, Bun,
 * Electron. For CWT-only apps, `@licensekit/verifier/compact` is the smaller entry.
 */
import { decodeUnnamedDocument } from '@licensekit/core';
import { createVerifierWith } from './create.js';
import type { Verifier, VerifierOptions } from './types.js';

/**
 * Creates an offline verifier for both token formats.
 *
 * @example
 * const verifier = createVerifier({ trust: { roots: [rootPublicJwk] }, product: 'photo-editor' });
 * const result = await verifier.verify(token);
 * if (result.valid) enableFeatures(result.entitlements);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  // The kid of a license that names its key through its certificate is learnt from the
  // certificate the acceptor checks anyway (core: decodeUnnamedDocument).
  return createVerifierWith(decodeUnnamedDocument, options);
}

export * from './exports.js';
