import { createPublicKey, verify } from 'node:crypto';
import {
  base64urlDecode,
  ClaimError,
  ConfigError,
  decodeDocument,
  KeyError,
  type LicenseClaimsInput,
  readCertificateClaims,
  readLicenseClaims,
} from '@licensekit/core';
import { importJWK, jwtVerify } from 'jose';
import { beforeAll, describe, expect, test } from 'vitest';
import { createIssuerCertificate } from './certificate.js';
import { issue } from './issue.js';
import { generateKeyPair } from './key-files.js';
import { createSigner, type Signer } from './signer.js';

const NOW = 1_763_700_000;
const DAY = 86_400;

const claims: LicenseClaimsInput = {
  iss: 'acme',
  sub: 'lic_01JD3K8X7Q2M5N9P',
  aud: 'photon',
  exp: NOW + 30 * DAY,
  plan: 'pro-monthly',
  ent: ['export-4k', 'batch'],
  quota: { exports: { limit: 1000, per: 'month' }, seats: { limit: 3 }, ai: { unlimited: true } },
  rfa: NOW + 7 * DAY,
  grace: 7 * DAY,
  cnf: { jkt: 'q1sLrnHqpXyZJrm0V4mDk8ExKDDpRrVXVZQ0tk2vGgc' },
};

// The same license without an end: for tests where the term is not the point.
const { exp: _exp, ...perpetual } = claims;

let root: Signer;
let signer: Signer;
let other: Signer;
let certificate: string;

beforeAll(async () => {
  root = await createSigner((await generateKeyPair()).privateJwk);
  signer = await createSigner((await generateKeyPair()).privateJwk);
  other = await createSigner((await generateKeyPair()).privateJwk);
  certificate = await createIssuerCertificate({
    root,
    issuerKey: signer.publicJwk,
    products: ['photon', 'video-editor'],
    vendor: 'acme',
    now: NOW - DAY,
  });
});

function verifiesWithNode(token: string, key: Signer): boolean {
  const document = decodeDocument(token, 'license');
  const publicKey = createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' });
  return verify(null, document.signingInput, publicKey, document.signature);
}

describe('issue', () => {
  test('jwt and cwt carry the same claims', async () => {
    const pinned = { ...claims, jti: 'AAECAwQFBgcICQoLDA0ODw' };
    const jwt = await issue(pinned, { signer, format: 'jwt', now: NOW });
    const cwt = await issue(pinned, { signer, format: 'cwt', now: NOW });
    const fromJwt = readLicenseClaims(decodeDocument(jwt, 'license'));
    expect(readLicenseClaims(decodeDocument(cwt, 'license'))).toEqual(fromJwt);
    expect(fromJwt).toEqual({ ...pinned, iat: NOW, nbf: NOW, access: 'full', seq: 0 });
    expect(decodeDocument(jwt).format).toBe('jwt');
    expect(decodeDocument(cwt).format).toBe('cwt');
  });

  test('the JWT verifies with jose (interop): typ lic+jwt, alg EdDSA, kid the thumbprint', async () => {
    const jwt = await issue(claims, { signer, format: 'jwt', now: NOW });
    const { payload, protectedHeader } = await jwtVerify(
      jwt,
      await importJWK(signer.publicJwk, 'EdDSA'),
      {
        typ: 'lic+jwt',
        algorithms: ['EdDSA'],
        currentDate: new Date((NOW + 60) * 1000),
      },
    );
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'lic+jwt', kid: signer.kid });
    expect(payload).toMatchObject({ sub: claims.sub, aud: claims.aud, exp: claims.exp, seq: 0 });
  });

  test.each(['jwt', 'cwt'] as const)(
    'the %s signature verifies with node:crypto over the signing input',
    async (format) => {
      const token = await issue(claims, { signer, format, now: NOW });
      // A bare CWT names no key since 0.3 (its verifier tries the keys it trusts); a JWT does.
      expect(decodeDocument(token).kid).toBe(format === 'jwt' ? signer.kid : '');
      expect(verifiesWithNode(token, signer)).toBe(true);
      expect(verifiesWithNode(token, other)).toBe(false);
    },
  );

  test('kid: true names the key in a bare CWT (35 bytes more); a JWT always names it', async () => {
    const bare = await issue(claims, { signer, now: NOW });
    const named = await issue(claims, { signer, now: NOW, kid: true });
    expect(decodeDocument(named).kid).toBe(signer.kid);
    expect(verifiesWithNode(named, signer)).toBe(true);
    // 35 bytes of kid, and one more for the head of the longer protected header.
    expect(base64urlDecode(named).length - base64urlDecode(bare).length).toBe(36);
    expect(
      decodeDocument(await issue(claims, { signer, format: 'jwt', now: NOW, kid: false })).kid,
    ).toBe(signer.kid);
  });

  test('a store license id (lic_ + base64url of 16 bytes) is carried as its bytes and reads back', async () => {
    const sub = 'lic_5mC0yBqPbXl3vYkR9nT2Qw';
    const token = await issue({ ...claims, sub }, { signer, now: NOW });
    const text = await issue(
      { ...claims, sub: 'lic_5mC0yBqPbXl3vYkR9nT2Qx' },
      { signer, now: NOW },
    );
    expect(readLicenseClaims(decodeDocument(token, 'license')).sub).toBe(sub);
    // The non-canonical spelling (non-zero trailing bits) stays text: 28 bytes against 17.
    expect(readLicenseClaims(decodeDocument(text, 'license')).sub).toBe(
      'lic_5mC0yBqPbXl3vYkR9nT2Qx',
    );
    expect(base64urlDecode(text).length - base64urlDecode(token).length).toBe(11);
  });

  test('fills the defaults: iat = nbf = now, a 16-byte random jti, seq 0, full access, no ent, no quota', async () => {
    const minimal = { iss: 'acme', sub: 'lic_1', aud: 'photon', plan: 'free' };
    const first = readLicenseClaims(
      decodeDocument(await issue(minimal, { signer, now: NOW }), 'license'),
    );
    const second = readLicenseClaims(
      decodeDocument(await issue(minimal, { signer, now: NOW }), 'license'),
    );
    expect(first).toEqual({
      ...minimal,
      iat: NOW,
      nbf: NOW,
      jti: first.jti,
      seq: 0,
      access: 'full',
      ent: [],
      quota: {},
    });
    expect(first.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(first.jti, 'base64url')).toHaveLength(16);
    expect(second.jti).not.toBe(first.jti);
  });

  test('caller values win over the defaults', async () => {
    const token = await issue(
      { ...claims, iat: NOW - 10, nbf: NOW + 10, access: 'trial' },
      { signer, now: NOW },
    );
    expect(readLicenseClaims(decodeDocument(token, 'license'))).toMatchObject({
      iat: NOW - 10,
      nbf: NOW + 10,
      access: 'trial',
    });
  });

  test('the clock defaults to the system time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { iat } = readLicenseClaims(
      decodeDocument(await issue(perpetual, { signer }), 'license'),
    );
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  test.each([
    ['quota.exports.limit', { quota: { exports: { limit: -1 } } }],
    ['quota.exports.per', { quota: { exports: { limit: 5, per: 'fortnight' } } }],
    ['exp', { exp: NOW - 1 }],
    ['aud', { aud: '' }],
    ['prev', { seq: 3 }],
    ['grase', { grase: 3600 }],
  ])('a bad claim throws a ClaimError naming %s', async (claim, bad) => {
    const error = await issue({ ...claims, ...bad } as LicenseClaimsInput, {
      signer,
      now: NOW,
    }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ClaimError);
    expect((error as ClaimError).claim).toBe(claim);
  });

  test('now in milliseconds is refused', async () => {
    await expect(issue(claims, { signer, now: Date.now() })).rejects.toThrow(ConfigError);
  });

  test('an unknown format is refused', async () => {
    // @ts-expect-error: not a format
    await expect(issue(claims, { signer, format: 'paseto', now: NOW })).rejects.toThrow(
      ConfigError,
    );
  });

  test('a license over the size verifiers accept is refused at issue time', async () => {
    // The most the claim model allows: 64 entitlements and 32 quotas, names of 64 characters.
    const names = (count: number) =>
      Array.from({ length: count }, (_, i) => `n${String(i).padStart(2, '0')}${'x'.repeat(61)}`);
    const quota = Object.fromEntries(
      names(32).map((name) => [name, { limit: 1, per: 'month' as const }]),
    );
    const large = { ...claims, ent: names(64), quota };
    await expect(issue(large, { signer, format: 'jwt', now: NOW })).rejects.toThrow(
      /over the 8192/,
    );
    await expect(issue(large, { signer, format: 'jwt', now: NOW })).rejects.toThrow(ConfigError);
  });

  test('a signer whose signatures its public key does not verify is caught', async () => {
    const impostor: Signer = { kid: signer.kid, publicJwk: signer.publicJwk, sign: other.sign };
    await expect(issue(claims, { signer: impostor, now: NOW })).rejects.toThrow(KeyError);
  });

  test('a signer that turns faulty later is caught with verify: always, not by default', async () => {
    let calls = 0;
    // Good signatures first, then a corrupted one (a transient fault).
    const flaky: Signer = {
      kid: signer.kid,
      publicJwk: signer.publicJwk,
      sign: async (data) => {
        const signature = await signer.sign(data);
        if (++calls > 1) signature[0]! ^= 1;
        return signature;
      },
    };
    await expect(issue(claims, { signer: flaky, now: NOW })).resolves.toBeTypeOf('string');
    // The default checks a signer's first signature only (that is what caught the impostor).
    await expect(issue(claims, { signer: flaky, now: NOW })).resolves.toBeTypeOf('string');
    await expect(issue(claims, { signer: flaky, now: NOW, verify: 'always' })).rejects.toThrow(
      KeyError,
    );
  });

  test('a signer whose kid is not its thumbprint is refused', async () => {
    const wrongKid: Signer = { kid: other.kid, publicJwk: signer.publicJwk, sign: signer.sign };
    await expect(issue(claims, { signer: wrongKid, now: NOW })).rejects.toThrow(KeyError);
  });
});

describe('issue with a certificate', () => {
  test.each(['jwt', 'cwt'] as const)('embeds it in a %s license', async (format) => {
    const token = await issue(claims, { signer, format, certificate, now: NOW });
    const document = decodeDocument(token, 'license');
    expect(document.certificate).toBeDefined();
    const embedded = readCertificateClaims(decodeDocument(document.certificate!, 'certificate'));
    expect(embedded).toEqual(readCertificateClaims(decodeDocument(certificate, 'certificate')));
  });

  test('a certificate for another key is refused', async () => {
    await expect(issue(claims, { signer: other, certificate, now: NOW })).rejects.toThrow(
      /certifies key .* not the signer's key/,
    );
  });

  test('a product outside the scope is refused', async () => {
    const error = await issue(
      { ...claims, aud: 'audio-editor' },
      { signer, certificate, now: NOW },
    ).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('does not cover product "audio-editor"');
  });

  test('scope "*" covers every product', async () => {
    const wildcard = await createIssuerCertificate({
      root,
      issuerKey: signer.publicJwk,
      products: ['*'],
      vendor: 'acme',
      now: NOW,
    });
    await expect(
      issue({ ...claims, aud: 'audio-editor' }, { signer, certificate: wildcard, now: NOW }),
    ).resolves.toBeTypeOf('string');
  });

  test('another vendor, or a certificate not valid at iat, is refused', async () => {
    await expect(
      issue({ ...claims, iss: 'globex' }, { signer, certificate, now: NOW }),
    ).rejects.toThrow(ConfigError);
    await expect(issue(perpetual, { signer, certificate, now: NOW + 400 * DAY })).rejects.toThrow(
      /valid from/,
    );
  });

  test('a license is not accepted as a certificate', async () => {
    const license = await issue(claims, { signer, now: NOW });
    await expect(issue(claims, { signer, certificate: license, now: NOW })).rejects.toThrow(
      ConfigError,
    );
  });
});
