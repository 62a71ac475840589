import { generateKeyPairSync, sign } from 'node:crypto';
import { jwkThumbprint } from '@licensekit/core';
import { prepareLicense } from '@licensekit/core/write';
import { createVerifier } from '@licensekit/verifier';
import { expect, test } from 'vitest';

test('scratch verify', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = await jwkThumbprint({ x: jwk.x! });
  const claims = {
    iss: 'acme',
    sub: 'lic_1',
    aud: 'photo-editor',
    iat: 1763700000,
    nbf: 1763700000,
    exp: 1766292000,
    jti: 'AAECAwQFBgcICQoLDA0ODw',
    plan: 'pro-monthly',
    access: 'full' as const,
    ent: ['a'],
    quota: { exports: { limit: 1000, per: 'month' as const } },
    rfa: 1764304800,
    grace: 604800,
    seq: 0,
  };
  const v = createVerifier({
    trust: { issuers: [jwk] },
    product: 'photo-editor',
    clock: () => 1764000000000,
  });
  for (const format of ['jwt', 'cwt'] as const) {
    const prepared = prepareLicense(claims, { format, kid });
    const token = prepared.finish(new Uint8Array(sign(null, prepared.signingInput, privateKey)));
    const r = await v.verify(token);
    expect(r.status).toBe('active');
    console.log(JSON.stringify(r.quotas));
    const bad = token.slice(0, -3) + (token.endsWith('A') ? 'BAA' : 'AAA');
    console.log((await v.verify(bad)).status, (await v.verify(bad)).reason);
  }
});
