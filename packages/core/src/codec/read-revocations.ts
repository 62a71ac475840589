import type { RevocationListClaims } from '../claims/revocation.js';
import { parseRevocationClaims, revocationJsonFromCwt } from '../claims/revocation.js';
import type { DecodedDocument } from './document.js';
import { payloadJson, readClaims } from './read.js';

/**
 * Reads and validates a revocation list's claims. A module of its own so that bundles that
 * never read revocation lists (the compact verifier) leave their parser out.
 * @throws MalformedError
 */
export function readRevocationClaims(document: DecodedDocument): RevocationListClaims {
  return readClaims(document, 'revocations', () =>
    parseRevocationClaims(payloadJson(document, revocationJsonFromCwt)),
  );
}
