import { createPublicKey, verify } from 'node:crypto';
import {
  ClaimError,
  ConfigError,
  decodeDocument,
  KeyError,
  MalformedError,
  readCertificateClaims,
} from '@licensekit/core';
import { decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, test } from 'vitest';
import { createIssuerCertificate, DEFAULT_CERTIFICATE_DAYS } from './certificate.js';
import { generateKeyPair, type KeyPair } from './key-files.js';
import { createSigner, type Signer } from './signer.js';

const NOW = 1_763_700_000;
const DAY = 86_400;

let root: Signer;
let issuerPair: KeyPair;

beforeAll(async () => {
  root = await createSigner((await generateKeyPair()).privateJwk);
  issuerPair = await generateKeyPair();
});

describe('createIssuerCertificate', () => {
  test.each(['jwt', 'cwt'] as const)(
    '%s: decodes to the given claims, signed by the root',
    async (format) => {
      const token = await createIssuerCertificate({
        root,
        issuerKey: issuerPair.publicJwk,
        products: ['photon', 'video-editor'],
        vendor: 'acme',
        notBefore: NOW,
        notAfter: NOW + 90 * DAY,
        format,
        now: NOW - 60,
      });
      const document = decodeDocument(token, 'certificate');
      expect(document.format).toBe(format);
      expect(document.kid).toBe(root.kid);
      const claims = readCertificateClaims(document);
      expect(claims).toEqual({
        iss: 'acme',
        iat: NOW - 60,
        nbf: NOW,
        exp: NOW + 90 * DAY,
        jti: claims.jti,
        key: issuerPair.publicJwk.x,
        products: ['photon', 'video-editor'],
      });
      expect(Buffer.from(claims.jti, 'base64url')).toHaveLength(16);
      const rootKey = createPublicKey({ key: { ...root.publicJwk }, format: 'jwk' });
      expect(verify(null, document.signingInput, rootKey, document.signature)).toBe(true);
    },
  );

  test('the JWT names the certificate type, and a certificate is never taken for a license', async () => {
    const options = {
      root,
      issuerKey: issuerPair.publicJwk,
      products: ['*'],
      vendor: 'acme',
      now: NOW,
    };
    const jwt = await createIssuerCertificate({ ...options, format: 'jwt' });
    expect(decodeProtectedHeader(jwt).typ).toBe('lic-cert+jwt');
    for (const token of [jwt, await createIssuerCertificate(options)]) {
      const error = (() => {
        try {
          decodeDocument(token, 'license');
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(MalformedError);
      expect((error as MalformedError).reason).toBe('wrong_type');
    }
  });

  test('validity defaults to now + DEFAULT_CERTIFICATE_DAYS; days sets it', async () => {
    const options = {
      root,
      issuerKey: issuerPair.publicJwk,
      products: ['*'],
      vendor: 'acme',
      now: NOW,
    };
    const byDefault = readCertificateClaims(decodeDocument(await createIssuerCertificate(options)));
    expect(byDefault).toMatchObject({ nbf: NOW, exp: NOW + DEFAULT_CERTIFICATE_DAYS * DAY });
    const thirty = readCertificateClaims(
      decodeDocument(await createIssuerCertificate({ ...options, days: 30 })),
    );
    expect(thirty.exp).toBe(NOW + 30 * DAY);
  });

  test('contradictory or impossible options are refused', async () => {
    const options = {
      root,
      issuerKey: issuerPair.publicJwk,
      products: ['app'],
      vendor: 'acme',
      now: NOW,
    };
    await expect(
      createIssuerCertificate({ ...options, days: 30, notAfter: NOW + DAY }),
    ).rejects.toThrow(ConfigError);
    await expect(createIssuerCertificate({ ...options, days: 0 })).rejects.toThrow(ConfigError);
    await expect(createIssuerCertificate({ ...options, products: ['*', 'app'] })).rejects.toThrow(
      ConfigError,
    );
    await expect(
      createIssuerCertificate({ ...options, issuerKey: root.publicJwk }),
    ).rejects.toThrow(/root key itself/);
    await expect(createIssuerCertificate({ ...options, notAfter: NOW })).rejects.toThrow(
      ClaimError,
    );
    await expect(createIssuerCertificate({ ...options, products: [] })).rejects.toThrow(ClaimError);
    await expect(createIssuerCertificate({ ...options, vendor: '' })).rejects.toThrow(ClaimError);
  });

  test('a private JWK as the issuer key is refused', async () => {
    await expect(
      createIssuerCertificate({
        root,
        issuerKey: issuerPair.privateJwk,
        products: ['app'],
        vendor: 'acme',
        now: NOW,
      }),
    ).rejects.toThrow(KeyError);
  });
});
