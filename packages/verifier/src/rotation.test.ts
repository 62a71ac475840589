/**
 * Key rotation (DESIGN.md "Keys and trust"): the app embeds only the root key; issuer keys
 * come and go with certificates carried in the tokens.
 */
import { describe, expect, it } from 'vitest';
import {
  certificateClaims,
  DAY,
  FORMATS,
  generateTestKey,
  makePki,
  PRODUCT,
  signCertificate,
  T0,
} from '../../../test/support/tokens.js';
import { createVerifier } from './index.js';
import { issueLicense, renewLicense, testClock } from './testing/harness.js';

describe.each(FORMATS)('key rotation (%s)', (format) => {
  function rootVerifier(root: ReturnType<typeof generateTestKey>, clock = testClock()) {
    return createVerifier({ trust: { roots: [root.jwk] }, product: PRODUCT, clock: clock.read });
  }

  it('a token signed by a new issuer key certified by the trusted root verifies with no change to the app', async () => {
    const { root, issuer, certificate } = makePki(format);
    const verifier = rootVerifier(root);
    const first = issueLicense(issuer, format, {}, { certificate });
    expect(await verifier.verify(first.token)).toMatchObject({
      valid: true,
      status: 'active',
      kid: issuer.kid,
    });

    // The vendor rotates: a new issuer key, certified by the same root, signs the renewal.
    const newIssuer = generateTestKey();
    const newCertificate = signCertificate(root, certificateClaims(newIssuer), { format });
    const renewed = renewLicense(newIssuer, format, first, {}, { certificate: newCertificate });
    expect(await verifier.verify(renewed.token)).toMatchObject({
      valid: true,
      status: 'active',
      kid: newIssuer.kid,
    });
    // And a fresh app instance, configured exactly as before, accepts it too.
    expect((await rootVerifier(root).verify(renewed.token)).status).toBe('active');
  });

  it('a certificate in the other format than the token works as well', async () => {
    const other = format === 'jwt' ? 'cwt' : 'jwt';
    const { root, issuer, certificate } = makePki(other);
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect((await rootVerifier(root).verify(token)).status).toBe('active');
  });

  it('an expired certificate is untrusted_key/certificate_expired', async () => {
    const { root, issuer, certificate } = makePki(format, {
      iat: T0 - 30 * DAY,
      nbf: T0 - 30 * DAY,
      exp: T0 - DAY,
    });
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect(await rootVerifier(root).verify(token)).toMatchObject({
      valid: false,
      status: 'untrusted_key',
      reason: 'certificate_expired',
    });
  });

  it('a certificate that ends while the app runs stops vouching for its key (cached token too)', async () => {
    const { root, issuer, certificate } = makePki(format, { exp: T0 + 5 * DAY });
    const { token } = issueLicense(issuer, format, {}, { certificate });
    const clock = testClock();
    const verifier = rootVerifier(root, clock);
    expect((await verifier.verify(token)).status).toBe('active');
    clock.set(T0 + 5 * DAY);
    expect(await verifier.verify(token)).toMatchObject({
      status: 'untrusted_key',
      reason: 'certificate_expired',
    });
  });

  it('a certificate not valid yet is untrusted_key/certificate_not_yet_valid', async () => {
    const { root, issuer, certificate } = makePki(format, {
      iat: T0,
      nbf: T0 + DAY,
      exp: T0 + 100 * DAY,
    });
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect(await rootVerifier(root).verify(token)).toMatchObject({
      status: 'untrusted_key',
      reason: 'certificate_not_yet_valid',
    });
  });

  it('a certificate for other products is untrusted_key/certificate_out_of_scope', async () => {
    const { root, issuer, certificate } = makePki(format, {
      products: ['video-editor', 'audio-editor'],
    });
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect(await rootVerifier(root).verify(token)).toMatchObject({
      valid: false,
      status: 'untrusted_key',
      reason: 'certificate_out_of_scope',
    });
  });

  it('a certificate of another vendor does not cover this license, even with "*"', async () => {
    const { root, issuer, certificate } = makePki(format, { iss: 'other-vendor', products: ['*'] });
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect(await rootVerifier(root).verify(token)).toMatchObject({
      valid: false,
      status: 'untrusted_key',
      reason: 'certificate_out_of_scope',
    });
  });

  it('a certificate for every product ("*") covers this one', async () => {
    const { root, issuer, certificate } = makePki(format, { products: ['*'] });
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect((await rootVerifier(root).verify(token)).status).toBe('active');
  });

  it('a certificate signed by a root the app does not trust is untrusted_key/certificate_signer_unknown', async () => {
    const { issuer, certificate } = makePki(format);
    const { token } = issueLicense(issuer, format, {}, { certificate });
    expect(await rootVerifier(generateTestKey()).verify(token)).toMatchObject({
      status: 'untrusted_key',
      reason: 'certificate_signer_unknown',
    });
  });

  it('only roots certify: a certificate signed by a directly trusted issuer key is refused', async () => {
    const trustedIssuer = generateTestKey();
    const rogue = generateTestKey();
    const certificate = signCertificate(trustedIssuer, certificateClaims(rogue), { format });
    const { token } = issueLicense(rogue, format, {}, { certificate });
    const verifier = createVerifier({
      trust: { issuers: [trustedIssuer.jwk] },
      product: PRODUCT,
      clock: testClock().read,
    });
    expect(await verifier.verify(token)).toMatchObject({
      status: 'untrusted_key',
      reason: 'certificate_signer_unknown',
    });
  });

  it('a certificate for another key than the signer is refused (JWT: kid mismatch; CWT: signature)', async () => {
    const { root, certificate } = makePki(format);
    const thief = generateTestKey();
    const { token } = issueLicense(thief, format, {}, { certificate });
    // A CWT with a certificate carries no kid: the certified key is the one tried, and the
    // thief's signature does not verify under it.
    expect(await rootVerifier(root).verify(token)).toMatchObject(
      format === 'jwt'
        ? { status: 'untrusted_key', reason: 'certificate_key_mismatch' }
        : { status: 'invalid_signature', reason: 'signature_mismatch' },
    );
  });

  it('a certificate with a broken signature is untrusted_key/certificate_signature_invalid', async () => {
    const { root, issuer } = makePki(format);
    // The root "signed" claims naming the issuer, but the signature is another document's.
    const genuine = signCertificate(root, certificateClaims(issuer), { format });
    const forged = spliceSignature(
      signCertificate(root, certificateClaims(issuer, { products: ['*'] }), { format }),
      genuine,
      format,
    );
    const { token } = issueLicense(issuer, format, {}, { certificate: forged });
    expect(await rootVerifier(root).verify(token)).toMatchObject({
      status: 'untrusted_key',
      reason: 'certificate_signature_invalid',
    });
  });

  it('an issuer key without a certificate is untrusted_key/unknown_kid for a root-only app', async () => {
    const { root, issuer } = makePki(format);
    const { token } = issueLicense(issuer, format);
    expect(await rootVerifier(root).verify(token)).toMatchObject({
      status: 'untrusted_key',
      reason: 'unknown_kid',
    });
  });

  it('a root may sign licenses itself', async () => {
    const root = generateTestKey();
    const { token } = issueLicense(root, format);
    expect((await rootVerifier(root).verify(token)).status).toBe('active');
  });
});

/** `document` with the signature of `donor` (both of `format`): a valid encoding, a wrong signature. */
function spliceSignature(document: string, donor: string, format: 'jwt' | 'cwt'): string {
  if (format === 'jwt') {
    return `${document.slice(0, document.lastIndexOf('.'))}${donor.slice(donor.lastIndexOf('.'))}`;
  }
  const bytes = Buffer.from(document, 'base64url');
  Buffer.from(donor, 'base64url').copy(
    bytes,
    bytes.length - 64,
    Buffer.from(donor, 'base64url').length - 64,
  );
  return bytes.toString('base64url');
}
