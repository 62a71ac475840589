import { createPublicKey, verify } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyError } from '@licensekit/core';
import { describe, expect, test } from 'vitest';
import { generateKeyPair } from './key-files.js';
import { createSigner } from './signer.js';

describe('createSigner', () => {
  test('signs with the key: node:crypto verifies the signature under publicJwk', async () => {
    const pair = await generateKeyPair();
    const signer = await createSigner(pair.privateJwk);
    expect(signer.kid).toBe(pair.kid);
    expect(signer.publicJwk).toEqual(pair.publicJwk);
    const data = new TextEncoder().encode('licensekit');
    const signature = await signer.sign(data);
    expect(signature).toHaveLength(64);
    const publicKey = createPublicKey({ key: { ...pair.publicJwk }, format: 'jwk' });
    expect(verify(null, data, publicKey, signature)).toBe(true);
  });

  test('exposes no private key material, by any route', async () => {
    const pair = await generateKeyPair();
    const signer = await createSigner(pair.privateJwk);
    expect(JSON.stringify(signer)).not.toContain(pair.privateJwk.d);
    expect(inspect(signer, { depth: 10, showHidden: true })).not.toContain(pair.privateJwk.d);
    expect(Object.getOwnPropertyNames(signer).sort()).toEqual(['kid', 'publicJwk', 'sign']);
    expect(signer.publicJwk).not.toHaveProperty('d');
    expect(Object.isFrozen(signer)).toBe(true);
  });

  test('refuses a JWK whose x is not the public key of its d', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    const mixed = { ...a.privateJwk, x: b.publicJwk.x, kid: b.kid };
    const error = await createSigner(mixed).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(KeyError);
    expect((error as KeyError).message).not.toContain(a.privateJwk.d);
  });

  test('refuses a kid that is not the thumbprint', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    await expect(createSigner({ ...a.privateJwk, kid: b.kid })).rejects.toThrow(KeyError);
  });

  test('refuses a public JWK', async () => {
    const pair = await generateKeyPair();
    // @ts-expect-error: no "d"
    await expect(createSigner(pair.publicJwk)).rejects.toThrow(KeyError);
  });
});
