/**
 * Device binding (DESIGN.md claim `cnf`): a license activated on one device verifies only
 * there. Device keys from WebCrypto (non-extractable) and from a 0600 file (Node).
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { verifyDeviceProof } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS, generateTestKey, PRODUCT, T0 } from '../../../test/support/tokens.js';
import { generateDeviceKey } from './device.js';
import type { DeviceKey } from './index.js';
import { createVerifier, deviceProof, signWithDevice } from './index.js';
import { fileDeviceKey } from './node/index.js';
import { issueLicense, testClock } from './testing/harness.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'licensekit-device-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function verifierFor(
  issuer: ReturnType<typeof generateTestKey>,
  device?: DeviceKey | { thumbprint: string },
) {
  return createVerifier({
    trust: { issuers: [issuer.jwk] },
    product: PRODUCT,
    clock: testClock().read,
    ...(device === undefined ? {} : { device }),
  });
}

describe('generateDeviceKey (WebCrypto)', () => {
  it('keeps the private key non-extractable', async () => {
    const device = await generateDeviceKey();
    expect(device.keyPair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', device.keyPair.privateKey)).rejects.toThrow();
    expect(device.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: device.thumbprint });
    expect(device.publicJwk).not.toHaveProperty('d');
  });

  it('signs with the key whose thumbprint it reports', async () => {
    const device = await generateDeviceKey();
    const data = new TextEncoder().encode('proof of possession');
    const signature = await device.sign(data);
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: device.publicJwk.x },
      format: 'jwk',
    });
    expect(nodeVerify(null, data, publicKey, signature)).toBe(true);
    const other = await generateDeviceKey();
    expect(other.thumbprint).not.toBe(device.thumbprint);
  });
});

describe.each(FORMATS)('device binding (%s)', (format) => {
  it('a bound license verifies on its device', async () => {
    const issuer = generateTestKey();
    const device = await generateDeviceKey();
    const { token } = issueLicense(issuer, format, { cnf: { jkt: device.thumbprint } });
    expect(await verifierFor(issuer, device).verify(token)).toMatchObject({
      valid: true,
      status: 'active',
    });
  });

  it('a bound license on another device is wrong_device/device_mismatch', async () => {
    const issuer = generateTestKey();
    const device = await generateDeviceKey();
    const otherDevice = await generateDeviceKey();
    const { token } = issueLicense(issuer, format, { cnf: { jkt: device.thumbprint } });
    expect(await verifierFor(issuer, otherDevice).verify(token)).toMatchObject({
      valid: false,
      status: 'wrong_device',
      reason: 'device_mismatch',
    });
  });

  it('a bound license with no device configured is wrong_device/device_required', async () => {
    const issuer = generateTestKey();
    const device = await generateDeviceKey();
    const { token } = issueLicense(issuer, format, { cnf: { jkt: device.thumbprint } });
    expect(await verifierFor(issuer).verify(token)).toMatchObject({
      valid: false,
      status: 'wrong_device',
      reason: 'device_required',
    });
  });

  it('a bare { thumbprint } checks the binding', async () => {
    const issuer = generateTestKey();
    const device = await generateDeviceKey();
    const { token } = issueLicense(issuer, format, { cnf: { jkt: device.thumbprint } });
    expect(
      (await verifierFor(issuer, { thumbprint: device.thumbprint }).verify(token)).status,
    ).toBe('active');
    expect(
      (await verifierFor(issuer, { thumbprint: generateTestKey().kid }).verify(token)).reason,
    ).toBe('device_mismatch');
  });

  it('an unbound license verifies on any device', async () => {
    const issuer = generateTestKey();
    const { token } = issueLicense(issuer, format);
    expect((await verifierFor(issuer, await generateDeviceKey()).verify(token)).status).toBe(
      'active',
    );
    expect((await verifierFor(issuer).verify(token)).status).toBe('active');
  });

  it('a license bound to a file device key verifies with the key reloaded from its file', async () => {
    const issuer = generateTestKey();
    const path = join(directory, `device-${format}.json`);
    const device = await fileDeviceKey(path);
    const { token } = issueLicense(issuer, format, { cnf: { jkt: device.thumbprint } });
    const reloaded = await fileDeviceKey(path);
    expect((await verifierFor(issuer, reloaded).verify(token)).status).toBe('active');
    const elsewhere = await fileDeviceKey(join(directory, `elsewhere-${format}.json`));
    expect((await verifierFor(issuer, elsewhere).verify(token)).reason).toBe('device_mismatch');
  });
});

describe('fileDeviceKey (Node)', () => {
  it('creates the key file with mode 0600 and reloads the same key', async () => {
    const path = join(directory, 'device.json');
    const device = await fileDeviceKey(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await fileDeviceKey(path);
    expect(again.thumbprint).toBe(device.thumbprint);
    expect(again.publicJwk).toEqual(device.publicJwk);
    const data = new TextEncoder().encode('same key');
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: device.publicJwk.x },
      format: 'jwk',
    });
    expect(nodeVerify(null, data, publicKey, await again.sign(data))).toBe(true);
  });

  // A fresh app data directory (~/.config/app/device.json on first run).
  it('creates a missing parent directory on first use, as fileState does', async () => {
    const path = join(directory, 'fresh-app-dir', 'device.json');
    const device = await fileDeviceKey(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await fileDeviceKey(path)).thumbprint).toBe(device.thumbprint);
  });

  // Two processes of one app starting together on first run (this process stands for
  // both: nothing in it coordinates the calls). Regression: each wrote its own new key over
  // the other's, so one process bound its activation to a key the file no longer held.
  it('two first uses at once end with one key, the one in the file', async () => {
    const path = join(directory, 'first-run', 'device.json');
    const [first, second] = await Promise.all([fileDeviceKey(path), fileDeviceKey(path)]);
    expect(second.thumbprint).toBe(first.thumbprint);
    expect((await fileDeviceKey(path)).thumbprint).toBe(first.thumbprint);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dirname(path))).toEqual(['device.json']);
  });

  it('refuses a key file readable by other users', async () => {
    const path = join(directory, 'loose.json');
    await fileDeviceKey(path);
    await chmod(path, 0o644);
    await expect(fileDeviceKey(path)).rejects.toMatchObject({ code: 'ERR_KEY_INVALID' });
  });

  it('refuses a file that is not an Ed25519 private JWK', async () => {
    const path = join(directory, 'garbage.json');
    await writeFile(path, '{"kty":"RSA"}', { mode: 0o600 });
    await expect(fileDeviceKey(path)).rejects.toMatchObject({ code: 'ERR_KEY_INVALID' });
  });
});

describe('proof of possession', () => {
  it('deviceProof signs a request that core verifyDeviceProof accepts for that device', async () => {
    const device = await generateDeviceKey();
    const url = 'https://store.example/v1/licenses/activate';
    const body = JSON.stringify({ key: 'LK-1234' });
    const now = Math.floor(Date.now() / 1000);
    const proof = await deviceProof(device, { method: 'post', url, body, iat: now });
    const verified = await verifyDeviceProof(proof, { method: 'POST', url, body, now });
    expect(verified.thumbprint).toBe(device.thumbprint);
    await expect(
      verifyDeviceProof(proof, { method: 'POST', url: `${url}?x`, body, now }),
    ).rejects.toMatchObject({
      reason: 'bad_claims',
    });
    await expect(
      verifyDeviceProof(proof, { method: 'POST', url, body: '{}', now }),
    ).rejects.toMatchObject({
      reason: 'bad_claims',
    });
  });

  it('a file device key makes proofs too', async () => {
    const device = await fileDeviceKey(join(directory, 'proof.json'));
    const url = 'https://store.example/v1/licenses/refresh';
    const proof = await deviceProof(device, { method: 'POST', url, iat: T0 });
    expect((await verifyDeviceProof(proof, { method: 'POST', url, now: T0 })).thumbprint).toBe(
      device.thumbprint,
    );
  });

  it('signWithDevice makes a compact JWS of the given type, verifiable with the device public key', async () => {
    const device = await generateDeviceKey();
    const payload = { hello: 'world', n: 1 };
    const jws = await signWithDevice(device, 'example+jwt', payload);
    const [h, p, s] = jws.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({
      alg: 'EdDSA',
      typ: 'example+jwt',
      kid: device.thumbprint,
    });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual(payload);
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: device.publicJwk.x },
      format: 'jwk',
    });
    expect(nodeVerify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))).toBe(
      true,
    );
  });
});
