import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  certificateClaims,
  coseHeader,
  generateTestKey,
  licenseClaims,
  rawCwt,
  signCertificate,
  signLicense,
  thumbprintOf,
} from '../../../../test/support/tokens.js';
import { licenseJsonFromCwt, licenseToCwt } from '../claims/license-cwt.js';
import { base64urlDecode } from '../encoding/base64url.js';
import { sha256Sync } from '../encoding/sha256.js';
import { MalformedError, type MalformedReason } from '../errors.js';
import { decodeCoseSign1 } from './cose.js';
import { COSE_CONTENT_FORMAT, COSE_TYPE, kindFromCoseType } from './kinds.js';
import { decodeCwtDocument, decodeDocument, readLicenseClaims } from './read.js';

/**
 * The 0.2 COSE header (README "Headers"): `typ` as a CoAP content-format number, no `kid`
 * when a certificate names the key, `nbf` left out when it equals `iat`; and the 0.1 form,
 * still accepted.
 */

function reasonOf(run: () => unknown): MalformedReason {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedError);
    return (error as MalformedError).reason;
  }
  throw new Error('expected a MalformedError');
}

const root = generateTestKey();
const issuer = generateTestKey();
const certificate = signCertificate(root, certificateClaims(issuer), { format: 'cwt' });

describe('the 0.2 COSE header', () => {
  test('typ is the content-format number of the kind; a certified license has no kid', () => {
    const token = signLicense(issuer, licenseClaims(), { format: 'cwt', certificate });
    const header = decodeCoseSign1(base64urlDecode(token)).protectedHeader;
    expect(header.get(16)).toBe(COSE_CONTENT_FORMAT.license);
    expect(header.has(4)).toBe(false);
    const certificateHeader = decodeCoseSign1(base64urlDecode(certificate)).protectedHeader;
    expect(certificateHeader.get(16)).toBe(COSE_CONTENT_FORMAT.certificate);
    expect(certificateHeader.get(4)).toBeInstanceOf(Uint8Array);
  });

  test('the kid of a certified license is the thumbprint of the certified key, in both decoders', () => {
    const token = signLicense(issuer, licenseClaims(), { format: 'cwt', certificate });
    expect(decodeDocument(token, 'license').kid).toBe(issuer.kid);
    expect(decodeCwtDocument(token, 'license').kid).toBe(issuer.kid);
    expect(decodeDocument(base64urlDecode(token), 'license').kid).toBe(issuer.kid);
    // A JWT certificate in a CWT license: the full decoder reads it, the CWT-only one cannot.
    const jwtCertificate = signCertificate(root, certificateClaims(issuer), { format: 'jwt' });
    const mixed = signLicense(issuer, licenseClaims(), {
      format: 'cwt',
      certificate: jwtCertificate,
    });
    expect(decodeDocument(mixed, 'license').kid).toBe(issuer.kid);
    expect(decodeCwtDocument(mixed, 'license').kid).toBe('');
  });

  test.each([
    ['a Uint8Array', (bytes: Uint8Array) => bytes],
    // A Node Buffer's slice() is a view: a copy made with it would change with the buffer.
    ['a Node Buffer', (bytes: Uint8Array) => Buffer.from(bytes)],
  ])('the kid cache keeps its own copy of a certificate read from %s', (_kind, wrap) => {
    // An embedded certificate is a view of the token's bytes. A caller that reuses its
    // buffer for a token with another certificate of the same length must get that
    // certificate's kid, not the one remembered for the bytes the buffer held before.
    // Keys of its own: a certificate decoded before would already be remembered.
    const [signer, first, second] = [generateTestKey(), generateTestKey(), generateTestKey()];
    const firstCertificate = base64urlDecode(
      signCertificate(signer, certificateClaims(first), { format: 'cwt' }),
    );
    const secondCertificate = base64urlDecode(
      signCertificate(signer, certificateClaims(second), { format: 'cwt' }),
    );
    const buffer = wrap(
      base64urlDecode(
        signLicense(first, licenseClaims(), { format: 'cwt', certificate: firstCertificate }),
      ),
    );
    expect(decodeDocument(buffer, 'license').kid).toBe(first.kid);
    expect(secondCertificate.length).toBe(firstCertificate.length);
    buffer.set(secondCertificate, indexOf(buffer, firstCertificate));
    expect(decodeDocument(buffer, 'license').kid).toBe(second.kid);
  });

  test('an unreadable certificate names no key (empty kid): trust decides, not the decoder', () => {
    const token = signLicense(issuer, licenseClaims(), {
      format: 'cwt',
      certificate: new Uint8Array([0xa0]),
    });
    const document = decodeDocument(token, 'license');
    expect(document.kid).toBe('');
    expect(document.certificate).toEqual(new Uint8Array([0xa0]));
  });

  test('no kid and no certificate: a bare 0.3 license, empty kid; a kid of the wrong length → bad_kid', () => {
    const header = coseHeader('license', issuer.kid);
    header.delete(4);
    const cwt = licenseToCwt(licenseClaims());
    expect(decodeDocument(rawCwt(issuer, header, cwt), 'license').kid).toBe('');
    expect(decodeCwtDocument(rawCwt(issuer, header, cwt), 'license').kid).toBe('');
    header.set(4, new Uint8Array(8));
    expect(reasonOf(() => decodeDocument(rawCwt(issuer, header, cwt), 'license'))).toBe('bad_kid');
    header.set(-65537, base64urlDecode(certificate));
    expect(reasonOf(() => decodeDocument(rawCwt(issuer, header, cwt), 'license'))).toBe('bad_kid');
  });

  test('each content-format number names one kind; other numbers name none (no cross-use)', () => {
    for (const [kind, number] of Object.entries(COSE_CONTENT_FORMAT)) {
      expect(kindFromCoseType(number)).toBe(kind);
      expect(kindFromCoseType(String(number))).toBeUndefined();
    }
    for (const other of [0, 60, 61, 65_199, 65_203, -65_200, 65_200.5]) {
      expect(kindFromCoseType(other)).toBeUndefined();
    }
    const header = coseHeader('license', issuer.kid);
    header.set(16, COSE_CONTENT_FORMAT.certificate);
    const token = rawCwt(issuer, header, licenseToCwt(licenseClaims()));
    expect(reasonOf(() => decodeDocument(token, 'license'))).toBe('wrong_type');
    expect(decodeDocument(token).kind).toBe('certificate');
  });
});

describe('0.1 tokens (media-type typ, kid beside the certificate) are still accepted', () => {
  test('a license with the 0.1 header, with and without a certificate, reads the same claims', () => {
    const claims = licenseClaims();
    for (const withCertificate of [false, true]) {
      const header = coseHeader('license', issuer.kid);
      expect(header.get(16)).toBe(COSE_TYPE.license);
      if (withCertificate) header.set(-65537, base64urlDecode(certificate));
      const cwt = licenseToCwt(claims);
      cwt.set(5, claims.nbf); // 0.1 always wrote nbf
      const document = decodeDocument(rawCwt(issuer, header, cwt), 'license');
      expect(document.kid).toBe(issuer.kid);
      expect(readLicenseClaims(document)).toEqual(claims);
    }
  });
});

describe('nbf equal to iat is left out of the CWT and read back as iat', () => {
  test('property: nbf is written exactly when it differs from iat; the claims round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (delay) => {
        const claims = licenseClaims({ nbf: licenseClaims().iat + delay });
        const cwt = licenseToCwt(claims);
        expect(cwt.has(5)).toBe(delay !== 0);
        expect(licenseJsonFromCwt(cwt as never).nbf).toBe(claims.nbf);
      }),
      { numRuns: 50 },
    );
  });
});

describe('sha256Sync (FIPS 180-4)', () => {
  test('FIPS 180-4 examples: "abc" and the 448-bit message', () => {
    const hex = (text: string) =>
      Buffer.from(sha256Sync(new TextEncoder().encode(text))).toString('hex');
    expect(hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('property: agrees with node:crypto on every length around the block boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (data) => {
        expect(Buffer.from(sha256Sync(data)).toString('hex')).toBe(
          createHash('sha256').update(data).digest('hex'),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('the thumbprint the decoder derives is the RFC 7638 one', () => {
    expect(thumbprintOf(issuer.x)).toBe(issuer.kid);
  });
});

/** Where `part` starts in `bytes` (it must be there). */
function indexOf(bytes: Uint8Array, part: Uint8Array): number {
  const at = Buffer.from(bytes).indexOf(Buffer.from(part));
  if (at < 0) throw new Error('part not found');
  return at;
}
