import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { jwkThumbprint, KeyError, parsePrivateJwk } from '@licensekit/core';
import type { DeviceKey } from '../device/device-key.js';
import { writeAtomically } from './atomic-write.js';

/**
 * The device key of a Node or Electron app: an Ed25519 private JWK in a 0600 file,
 * created on first use. A file readable by other users is refused, as ssh does.
 */
export async function fileDeviceKey(path: string): Promise<DeviceKey> {
  let text: string | undefined;
  try {
    const info = await stat(path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new KeyError(
        `device key ${basename(path)} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === undefined) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    text = JSON.stringify(privateKey.export({ format: 'jwk' }));
    await writeAtomically(path, text);
  }
  let jwk: ReturnType<typeof parsePrivateJwk>;
  try {
    jwk = parsePrivateJwk(JSON.parse(text), `device key ${basename(path)}`);
  } catch {
    throw new KeyError(
      `device key ${basename(path)} is not an Ed25519 private JWK; move it away to create a new one`,
    );
  }
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d },
    format: 'jwk',
  });
  const thumbprint = await jwkThumbprint(jwk);
  return {
    thumbprint,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: thumbprint },
    async sign(data) {
      return new Uint8Array(sign(null, data, key));
    },
  };
}
