/**
 * Bare CWT licenses without kid (format 0.3, core README "Headers"): the verifier finds the
 * signing key among the keys it trusts directly by trying each.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY,
  generateTestKey,
  licenseClaims,
  makePki,
  PRODUCT,
  revocationClaims,
  signLicense,
  signRevocationList,
  T0,
} from '../../../test/support/tokens.js';
import type { TrustOptions } from './index.js';
import { createVerifier } from './index.js';

const NO_KID = new Map([[4, undefined]]);

function kidless(key: ReturnType<typeof generateTestKey>, claims = licenseClaims()): string {
  return signLicense(key, claims, { format: 'cwt', coseHeader: NO_KID });
}

function verifierOf(trust: TrustOptions, revocations?: string) {
  return createVerifier({
    trust,
    product: PRODUCT,
    clock: () => (T0 + DAY) * 1000,
    ...(revocations === undefined ? {} : { revocations }),
  });
}

describe('a bare CWT license without kid', () => {
  it('verifies with whichever directly trusted key signed it, and names that key', async () => {
    const [first, second, third] = [generateTestKey(), generateTestKey(), generateTestKey()];
    const verifier = verifierOf({ issuers: [first.jwk, second.jwk, third.jwk] });
    for (const [i, signer] of [third, first, third, second].entries()) {
      // A license each: the same license in another token would be a rollback.
      const token = kidless(signer, licenseClaims({ sub: `lic-${i}` }));
      expect(await verifier.verify(token)).toMatchObject({
        valid: true,
        status: 'active',
        kid: signer.kid,
      });
    }
  });

  it('a root trusted directly may sign one too', async () => {
    const { root } = makePki('cwt');
    expect((await verifierOf({ roots: [root.jwk] }).verify(kidless(root))).status).toBe('active');
  });

  it('signed by a key the app does not trust directly: untrusted_key/unknown_kid', async () => {
    const { root, issuer } = makePki('cwt');
    for (const trust of [{ roots: [root.jwk] }, { issuers: [generateTestKey().jwk] }]) {
      expect(await verifierOf(trust).verify(kidless(issuer))).toMatchObject({
        valid: false,
        status: 'untrusted_key',
        reason: 'unknown_kid',
      });
    }
  });

  it('a changed claim or signature byte finds no key: untrusted_key, nothing exposed', async () => {
    const issuer = generateTestKey();
    const token = kidless(issuer);
    const bytes = Buffer.from(token, 'base64url');
    for (const index of [bytes.length - 1, bytes.length - 70]) {
      const changed = Uint8Array.from(bytes);
      changed[index] = changed[index]! ^ 1;
      const result = await verifierOf({ issuers: [issuer.jwk] }).verify(
        Buffer.from(changed).toString('base64url'),
      );
      expect(result.valid).toBe(false);
      expect(result.claims).toBeUndefined();
    }
  });

  it('a revoked key (by its kid) revokes the licenses it signed without naming itself', async () => {
    const issuer = generateTestKey();
    const list = signRevocationList(issuer, revocationClaims({ keys: [issuer.kid] }), {
      format: 'cwt',
    });
    const result = await verifierOf({ issuers: [issuer.jwk] }, list).verify(kidless(issuer));
    expect(result).toMatchObject({ valid: false, status: 'revoked', reason: 'key_revoked' });
  });

  it('a 0.2 token, which names its key, still verifies the same way', async () => {
    const issuer = generateTestKey();
    const named = signLicense(issuer, licenseClaims(), { format: 'cwt' });
    const verifier = verifierOf({ issuers: [generateTestKey().jwk, issuer.jwk] });
    expect(await verifier.verify(named)).toMatchObject({ status: 'active', kid: issuer.kid });
  });
});
