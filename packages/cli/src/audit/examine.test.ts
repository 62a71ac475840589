import { hash } from 'node:crypto';
import { type DocumentKind, tokenHash } from '@licensekit/core';
import { logEntryHash } from '@licensekit/core/log';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { leafHashOf } from './examine.js';

/**
 * The audit hashes each entry synchronously with node:crypto (an await per hash was a
 * measurable part of its time per entry): the hashes must be core's, byte for byte.
 */
describe('leafHashOf', () => {
  test("is core's logEntryHash, and node's base64url SHA-256 (examine's token hash) is core's tokenHash", async () => {
    const kinds: DocumentKind[] = ['license', 'certificate', 'revocations'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kinds),
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        async (kind, document) => {
          expect(new Uint8Array(leafHashOf(kind, document))).toEqual(
            await logEntryHash(kind, document),
          );
          expect(hash('sha256', document, 'base64url')).toBe(await tokenHash(document));
        },
      ),
      { numRuns: 200 },
    );
  });
});
