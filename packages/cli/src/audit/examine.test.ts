import { createPublicKey, generateKeyPairSync, hash, sign } from 'node:crypto';
import { type DocumentKind, defaultBackend, tokenHash } from '@licensekit/core';
import { logEntryHash } from '@licensekit/core/log';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { leafHashOf, verifyEd25519 } from './examine.js';

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

/**
 * The audit verifies with node:crypto directly (the backend's promises cost microtasks per
 * entry): its verdicts must be the node backend's, for good, altered and wrong-length
 * signatures.
 */
describe('verifyEd25519', () => {
  test("gives the node backend's verdict", async () => {
    const backend = await defaultBackend();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const x = publicKey.export({ format: 'jwk' }).x!;
    const raw = new Uint8Array(Buffer.from(x, 'base64url'));
    const handle = await backend.importPublicKey(raw);
    const keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(63),
        fc.integer({ min: 0, max: 3 }),
        async (message, at, change) => {
          const good = new Uint8Array(sign(null, message, privateKey));
          const signature =
            change === 0
              ? good
              : change === 1
                ? good.map((byte, i) => (i === at ? byte ^ 1 : byte))
                : change === 2
                  ? good.subarray(0, at)
                  : new Uint8Array([...good, 0]);
          expect(verifyEd25519(keyObject, message, signature)).toBe(
            await backend.verify(handle, message, signature),
          );
          expect(verifyEd25519(null, message, signature)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
