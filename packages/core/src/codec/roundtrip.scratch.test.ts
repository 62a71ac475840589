import { generateKeyPairSync, sign } from 'node:crypto';
import { decodeDocument, jwkThumbprint, readLicenseClaims } from '@licensekit/core';
import { prepareLicense } from '@licensekit/core/write';
import { expect, test } from 'vitest';

test('scratch', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = await jwkThumbprint({ x: jwk.x! });
  const claims = {
    iss: 'acme',
    sub: 'lic_01JD3K8X7Q2M5N9P',
    aud: 'photo-editor',
    iat: 1763700000,
    nbf: 1763700000,
    exp: 1766292000,
    jti: 'AAECAwQFBgcICQoLDA0ODw',
    plan: 'pro-monthly',
    access: 'full' as const,
    ent: ['export-4k', 'batch', 'plugins'],
    quota: { exports: { limit: 1000, per: 'month' as const }, seats: { limit: 3 } },
    rfa: 1764304800,
    grace: 604800,
    seq: 0,
  };
  for (const format of ['jwt', 'cwt'] as const) {
    const prepared = prepareLicense(claims, { format, kid });
    const token = prepared.finish(new Uint8Array(sign(null, prepared.signingInput, privateKey)));
    console.log(format, token.length, token.slice(0, 60));
    const doc = decodeDocument(token, 'license');
    expect(readLicenseClaims(doc)).toEqual(claims);
  }
});
