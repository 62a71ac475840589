/**
 * The verifier checks a signature synchronously when the backend offers `verifySync`
 * (node:crypto, noble) and waits for `verify` otherwise (WebCrypto). Both paths must give
 * the same result for every kind of token.
 */
import type { Ed25519Backend } from '@licensekit/core';
import { defaultBackend } from '@licensekit/core';
import { describe, expect, it } from 'vitest';
import {
  DAY,
  generateTestKey,
  licenseClaims,
  makePki,
  PRODUCT,
  signLicense,
  T0,
} from '../../../test/support/tokens.js';
import { createVerifier as createCompactVerifier } from './compact.js';
import type { TrustOptions } from './index.js';
import { createVerifier } from './index.js';

/** The platform backend without its synchronous verify, as WebCrypto is. */
async function asyncOnly(): Promise<Ed25519Backend> {
  const base = await defaultBackend();
  return {
    name: base.name,
    importPublicKey: (raw) => base.importPublicKey(raw),
    verify: (key, message, signature) => base.verify(key, message, signature),
    importPrivateKey: (seed) => base.importPrivateKey(seed),
    sign: (key, message) => base.sign(key, message),
  };
}

function tamper(token: string): string {
  // The last character carries the signature's final bits.
  const last = token.at(-1) === 'A' ? 'Q' : 'A';
  return token.slice(0, -1) + last;
}

describe('a backend that verifies only asynchronously', () => {
  it('gives the results of the synchronous path, in the full and the compact entry', async () => {
    const { root, issuer, certificate } = makePki('cwt');
    const bare = generateTestKey();
    const cases: [TrustOptions, string][] = [
      [{ roots: [root.jwk] }, signLicense(issuer, licenseClaims(), { format: 'cwt', certificate })],
      [{ issuers: [bare.jwk] }, signLicense(bare, licenseClaims(), { format: 'cwt' })],
      [{ issuers: [bare.jwk] }, signLicense(bare, licenseClaims(), { format: 'jwt' })],
    ];
    const backend = await asyncOnly();
    expect(backend.verifySync).toBeUndefined();
    const clock = () => (T0 + DAY) * 1000;
    for (const [trust, token] of cases) {
      for (const candidate of [token, tamper(token)]) {
        const options = { trust, product: PRODUCT, clock, state: false as const };
        const expected = await createVerifier(options).verify(candidate);
        expect(expected.status).toBe(candidate === token ? 'active' : 'invalid_signature');
        const found = await createVerifier({ ...options, backend }).verify(candidate);
        expect([found.status, found.reason]).toEqual([expected.status, expected.reason]);
        if (!token.includes('.')) {
          const compact = await createCompactVerifier({ ...options, backend }).verify(candidate);
          expect([compact.status, compact.reason]).toEqual([expected.status, expected.reason]);
        }
      }
      expect(
        (await createVerifier({ trust, product: PRODUCT, clock, backend }).verify(token)).valid,
      ).toBe(true);
    }
  });
});
