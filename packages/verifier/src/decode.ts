import type { DecodedDocument, DocumentKind } from '@licensekit/core';

/**
 * The decoder a verifier is built with: both formats (the main entry) or CWT only (the
 * compact entry, which leaves the JSON and JWS code out of browser bundles).
 */
export type Decode = (input: string | Uint8Array, expected: DocumentKind) => DecodedDocument;
