/**
 * Revocation lists (DESIGN.md "Verifier state", status 4): signed by the root or a
 * directly trusted issuer key, monotonic seq, stale past `next`, persisted in the state.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY,
  FORMATS,
  generateTestKey,
  licenseClaims,
  makePki,
  PRODUCT,
  revocationClaims,
  signLicense,
  signRevocationList,
  T0,
} from '../../../test/support/tokens.js';
import type { StateStore } from './index.js';
import { createVerifier, memoryState } from './index.js';
import { inspectableState, issueLicense, renewLicense, testClock } from './testing/harness.js';

describe.each(FORMATS)('revocation lists (%s)', (format) => {
  /** An app trusting only the root; licenses signed by a certified issuer key. */
  function rootSetup(state?: StateStore) {
    const pki = makePki(format);
    const clock = testClock();
    const make = () =>
      createVerifier({
        trust: { roots: [pki.root.jwk] },
        product: PRODUCT,
        clock: clock.read,
        ...(state === undefined ? {} : { state }),
      });
    const license = issueLicense(pki.issuer, format, {}, { certificate: pki.certificate });
    return { ...pki, clock, verifier: make(), make, license };
  }

  describe('signed by the root', () => {
    it('a listed issuer key (kid) is revoked/key_revoked', async () => {
      const { root, issuer, verifier, license } = rootSetup();
      expect((await verifier.verify(license.token)).status).toBe('active');
      const list = signRevocationList(root, revocationClaims({ keys: [issuer.kid] }), { format });
      expect(await verifier.updateRevocations(list)).toEqual({
        accepted: true,
        reason: 'applied',
        seq: 1,
      });
      expect(await verifier.verify(license.token)).toMatchObject({
        valid: false,
        status: 'revoked',
        reason: 'key_revoked',
      });
    });

    it('a listed license (sub) is revoked/license_revoked, every token of its lineage', async () => {
      const { root, issuer, certificate, verifier, license } = rootSetup();
      const renewed = renewLicense(issuer, format, license, {}, { certificate });
      const list = signRevocationList(root, revocationClaims({ licenses: [license.claims.sub] }), {
        format,
      });
      await verifier.updateRevocations(list);
      expect(await verifier.verify(license.token)).toMatchObject({
        status: 'revoked',
        reason: 'license_revoked',
      });
      expect(await verifier.verify(renewed.token)).toMatchObject({
        status: 'revoked',
        reason: 'license_revoked',
      });
      const other = issueLicense(issuer, format, { sub: 'lic_other' }, { certificate });
      expect((await verifier.verify(other.token)).status).toBe('active');
    });

    it('a listed token (jti) is revoked/token_revoked, its successor is not', async () => {
      const { root, issuer, certificate, verifier, license } = rootSetup();
      const list = signRevocationList(root, revocationClaims({ tokens: [license.claims.jti] }), {
        format,
      });
      await verifier.updateRevocations(list);
      expect(await verifier.verify(license.token)).toMatchObject({
        status: 'revoked',
        reason: 'token_revoked',
      });
      const renewed = renewLicense(issuer, format, license, {}, { certificate });
      expect((await verifier.verify(renewed.token)).status).toBe('active');
    });

    it('revoked comes before every later status (here: expired and wrong product)', async () => {
      const { root, issuer, certificate } = makePki(format, { products: ['*'] });
      const clock = testClock();
      const verifier = createVerifier({
        trust: { roots: [root.jwk] },
        product: PRODUCT,
        clock: clock.read,
      });
      const foreign = signLicense(issuer, licenseClaims({ aud: 'other-product' }), {
        format,
        certificate,
      });
      const list = signRevocationList(root, revocationClaims({ keys: [issuer.kid] }), { format });
      await verifier.updateRevocations(list);
      expect((await verifier.verify(foreign)).status).toBe('revoked');
      clock.set(T0 + 60 * DAY);
      const expired = issueLicense(issuer, format, {}, { certificate });
      expect((await verifier.verify(expired.token)).status).toBe('revoked');
    });
  });

  it('a list signed by a directly trusted issuer key applies', async () => {
    const issuer = generateTestKey();
    const verifier = createVerifier({
      trust: { issuers: [issuer.jwk] },
      product: PRODUCT,
      clock: testClock().read,
    });
    const license = issueLicense(issuer, format);
    const list = signRevocationList(issuer, revocationClaims({ licenses: [license.claims.sub] }), {
      format,
    });
    expect((await verifier.updateRevocations(list)).accepted).toBe(true);
    expect(await verifier.verify(license.token)).toMatchObject({
      status: 'revoked',
      reason: 'license_revoked',
    });
  });

  it('a stale list (past next) adds the warning revocation_list_stale but the license stays valid', async () => {
    const { root, verifier, license, clock } = rootSetup();
    await verifier.updateRevocations(
      signRevocationList(root, revocationClaims({ next: T0 + DAY }), { format }),
    );
    const fresh = await verifier.verify(license.token);
    expect(fresh).toMatchObject({ valid: true, status: 'active', warnings: [] });
    clock.set(T0 + DAY);
    expect(await verifier.verify(license.token)).toMatchObject({
      valid: true,
      status: 'active',
      warnings: ['revocation_list_stale'],
    });
  });

  it('a list without next never goes stale', async () => {
    const { root, verifier, license, clock } = rootSetup();
    await verifier.updateRevocations(
      signRevocationList(root, revocationClaims({ next: undefined }), { format }),
    );
    clock.set(T0 + 20 * DAY - 1);
    expect((await verifier.verify(license.token)).warnings).toEqual([]);
  });

  it('an older list never replaces a newer one (not_newer)', async () => {
    const { root, verifier, license } = rootSetup();
    const newer = signRevocationList(
      root,
      revocationClaims({ seq: 2, licenses: [license.claims.sub] }),
      { format },
    );
    const older = signRevocationList(root, revocationClaims({ seq: 1 }), { format });
    expect(await verifier.updateRevocations(newer)).toEqual({
      accepted: true,
      reason: 'applied',
      seq: 2,
    });
    expect(await verifier.updateRevocations(older)).toEqual({
      accepted: false,
      reason: 'not_newer',
      seq: 2,
    });
    expect((await verifier.verify(license.token)).status).toBe('revoked');
  });

  it('a list with an equal seq never replaces the one in force (not_newer)', async () => {
    const { root, verifier, license } = rootSetup();
    const first = signRevocationList(
      root,
      revocationClaims({ seq: 3, licenses: [license.claims.sub] }),
      { format },
    );
    const rival = signRevocationList(root, revocationClaims({ seq: 3 }), { format });
    await verifier.updateRevocations(first);
    expect(await verifier.updateRevocations(rival)).toEqual({
      accepted: false,
      reason: 'not_newer',
      seq: 3,
    });
    expect((await verifier.verify(license.token)).status).toBe('revoked');
  });

  it('a newer list replaces the older one (a license can be un-revoked)', async () => {
    const { root, verifier, license } = rootSetup();
    await verifier.updateRevocations(
      signRevocationList(root, revocationClaims({ seq: 1, licenses: [license.claims.sub] }), {
        format,
      }),
    );
    expect((await verifier.verify(license.token)).status).toBe('revoked');
    expect(
      await verifier.updateRevocations(
        signRevocationList(root, revocationClaims({ seq: 2 }), { format }),
      ),
    ).toEqual({
      accepted: true,
      reason: 'applied',
      seq: 2,
    });
    expect((await verifier.verify(license.token)).status).toBe('active');
  });

  it('a list signed by an untrusted key is refused (untrusted_key)', async () => {
    const { verifier, license } = rootSetup();
    const list = signRevocationList(
      generateTestKey(),
      revocationClaims({ licenses: [license.claims.sub] }),
      { format },
    );
    expect(await verifier.updateRevocations(list)).toEqual({
      accepted: false,
      reason: 'untrusted_key',
      seq: undefined,
    });
    expect((await verifier.verify(license.token)).status).toBe('active');
  });

  it('a list signed by a certified (not directly trusted) issuer key is refused (untrusted_key)', async () => {
    const { issuer, verifier, license } = rootSetup();
    const list = signRevocationList(issuer, revocationClaims({ licenses: [license.claims.sub] }), {
      format,
    });
    expect((await verifier.updateRevocations(list)).reason).toBe('untrusted_key');
    expect((await verifier.verify(license.token)).status).toBe('active');
  });

  it('a list whose signature does not match is refused (invalid_signature)', async () => {
    const { root, verifier, license } = rootSetup();
    const list = corruptSignature(
      signRevocationList(root, revocationClaims({ licenses: [license.claims.sub] }), { format }),
      format,
    );
    expect(await verifier.updateRevocations(list)).toEqual({
      accepted: false,
      reason: 'invalid_signature',
      seq: undefined,
    });
    expect((await verifier.verify(license.token)).status).toBe('active');
  });

  it('a license presented as a revocation list is refused (malformed)', async () => {
    const { verifier, license } = rootSetup();
    expect((await verifier.updateRevocations(license.token)).reason).toBe('malformed');
  });

  it('persisted: a new verifier on the same state sees the revocation', async () => {
    const state = memoryState();
    const { root, make, license } = rootSetup(state);
    const list = signRevocationList(root, revocationClaims({ licenses: [license.claims.sub] }), {
      format,
    });
    await make().updateRevocations(list);
    expect(await make().verify(license.token)).toMatchObject({
      status: 'revoked',
      reason: 'license_revoked',
    });
  });

  it('the revocations option applies from the start; a newer stored list wins over it', async () => {
    const state = memoryState();
    const { root, clock, license, make } = rootSetup(state);
    const older = signRevocationList(
      root,
      revocationClaims({ seq: 1, licenses: [license.claims.sub] }),
      { format },
    );
    const newer = signRevocationList(root, revocationClaims({ seq: 2 }), { format });
    const withOption = () =>
      createVerifier({
        trust: { roots: [root.jwk] },
        product: PRODUCT,
        clock: clock.read,
        state,
        revocations: older,
      });
    expect((await withOption().verify(license.token)).status).toBe('revoked');
    await make().updateRevocations(newer);
    expect((await withOption().verify(license.token)).status).toBe('active');
  });

  it('two verifiers sharing a state applying lists at once keep the newest', async () => {
    const state = memoryState();
    const { root, make, license } = rootSetup(state);
    const lists = [1, 2, 3, 4].map((seq) =>
      signRevocationList(
        root,
        revocationClaims({ seq, licenses: seq === 3 ? [license.claims.sub] : [] }),
        { format },
      ),
    );
    const a = make();
    const b = make();
    await Promise.all([
      a.updateRevocations(lists[2]!),
      b.updateRevocations(lists[1]!),
      a.updateRevocations(lists[0]!),
    ]);
    expect((await make().verify(license.token)).reason).toBe('license_revoked');
    await Promise.all([b.updateRevocations(lists[3]!), a.updateRevocations(lists[2]!)]);
    expect((await make().verify(license.token)).status).toBe('active');
  });

  it('a list planted in the state with a huge seq and an invalid signature does not block a real list', async () => {
    const { store, data } = inspectableState(PRODUCT);
    const { root, make, license } = rootSetup(store);
    const genuine = signRevocationList(
      root,
      revocationClaims({ seq: 999_999_999, licenses: ['lic_someone_else'] }),
      { format },
    );
    data.revocations = { token: corruptSignature(genuine, format), seq: 999_999_999 };
    const verifier = make();
    // The planted list is not in force…
    expect((await verifier.verify(license.token)).status).toBe('active');
    // …and a real list with a small seq replaces it.
    const real = signRevocationList(
      root,
      revocationClaims({ seq: 1, licenses: [license.claims.sub] }),
      { format },
    );
    expect(await verifier.updateRevocations(real)).toEqual({
      accepted: true,
      reason: 'applied',
      seq: 1,
    });
    expect((await verifier.verify(license.token)).status).toBe('revoked');
    expect(data.revocations).toEqual({ token: real, seq: 1 });
    expect((await make().verify(license.token)).status).toBe('revoked');
  });

  it('a list planted in the state, signed by an attacker key, is ignored as well', async () => {
    const { store, data } = inspectableState(PRODUCT);
    const { root, make, license } = rootSetup(store);
    const attacker = generateTestKey();
    data.revocations = {
      token: signRevocationList(attacker, revocationClaims({ seq: 2 ** 40, keys: [root.kid] }), {
        format,
      }),
      seq: 2 ** 40,
    };
    const verifier = make();
    expect((await verifier.verify(license.token)).status).toBe('active');
    const real = signRevocationList(
      root,
      revocationClaims({ seq: 1, tokens: [license.claims.jti] }),
      { format },
    );
    expect((await verifier.updateRevocations(real)).accepted).toBe(true);
    expect((await verifier.verify(license.token)).reason).toBe('token_revoked');
  });
});

/** Flips a bit in the R half of the signature; the encoding stays canonical. */
function corruptSignature(token: string, format: 'jwt' | 'cwt'): string {
  if (format === 'jwt') {
    const dot = token.lastIndexOf('.');
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    signature[0]! ^= 1;
    return `${token.slice(0, dot)}.${signature.toString('base64url')}`;
  }
  const bytes = Buffer.from(token, 'base64url');
  bytes[bytes.length - 64]! ^= 1;
  return bytes.toString('base64url');
}
