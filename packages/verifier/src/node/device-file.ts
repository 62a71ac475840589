import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
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
    text = await createKeyFile(path, JSON.stringify(privateKey.export({ format: 'jwk' })));
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

/**
 * Puts a new key at `path` unless one is there already, and answers the key the file then
 * holds. The key is written whole to a temporary file (writeAtomically: fsynced, 0600),
 * then linked to `path`: unlike a rename, a link never replaces an existing file. So of
 * two processes that create the key at once (an app's first run), both end up with the
 * same key — the one in the file — and neither binds an activation to a key that another
 * process has just overwritten.
 */
async function createKeyFile(path: string, text: string): Promise<string> {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.new`;
  await writeAtomically(temporary, text);
  try {
    await link(temporary, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A file system without hard links (FAT, some network shares): the rename of before,
    // which can replace a key created at the same instant, rather than no key at all.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
      await writeAtomically(path, text);
      return text;
    }
    if (code !== 'EEXIST') throw error;
    // Another process created it first (whole: it was linked, not written in place).
    return await readFile(path, 'utf8');
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  // Persist the new name itself (the directory entry); not every platform allows it.
  const directory = await open(dirname(path), 'r').catch(() => undefined);
  await directory?.sync().catch(() => undefined);
  await directory?.close();
  return text;
}
