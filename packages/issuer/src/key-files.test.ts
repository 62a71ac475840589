import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyError } from '@licensekit/core';
import { calculateJwkThumbprint } from 'jose';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  generateKeyPair,
  publicKeyPathFor,
  readPrivateKeyFile,
  readPublicKeyFile,
  writeKeyPair,
} from './key-files.js';

const posix = process.platform !== 'win32';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'licensekit-issuer-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The KeyError a promise rejects with (fails the test when it resolves or throws another). */
async function keyError(promise: Promise<unknown>): Promise<KeyError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(KeyError);
  return error as KeyError;
}

describe('generateKeyPair', () => {
  test('kid is the RFC 7638 thumbprint, computed independently by jose', async () => {
    const pair = await generateKeyPair();
    const expected = await calculateJwkThumbprint(
      { kty: 'OKP', crv: 'Ed25519', x: pair.publicJwk.x },
      'sha256',
    );
    expect(pair.kid).toBe(expected);
    expect(pair.privateJwk.kid).toBe(expected);
    expect(pair.publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: pair.privateJwk.x,
      kid: expected,
    });
    expect(pair.publicJwk).not.toHaveProperty('d');
  });

  test('two pairs differ', async () => {
    const [a, b] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    expect(a.privateJwk.d).not.toBe(b.privateJwk.d);
  });
});

describe('publicKeyPathFor', () => {
  test('replaces .json, appends otherwise', () => {
    expect(publicKeyPathFor('keys/key.json')).toBe('keys/key.pub.json');
    expect(publicKeyPathFor('keys/root')).toBe('keys/root.pub.json');
    expect(publicKeyPathFor('root.key')).toBe('root.key.pub.json');
  });
});

describe('writeKeyPair', () => {
  test.runIf(posix)('modes are exactly 0600 and 0644 whatever the umask', async () => {
    const previousUmask = process.umask(0o077);
    try {
      const paths = await writeKeyPair(join(dir, 'key.json'), await generateKeyPair());
      expect(statSync(paths.privateKeyPath).mode & 0o777).toBe(0o600);
      expect(statSync(paths.publicKeyPath).mode & 0o777).toBe(0o644);
    } finally {
      process.umask(previousUmask);
    }
  });

  test('writes the private JWK and a sibling .pub.json without "d"', async () => {
    const pair = await generateKeyPair();
    const paths = await writeKeyPair(join(dir, 'key.json'), pair);
    expect(paths).toEqual({
      privateKeyPath: join(dir, 'key.json'),
      publicKeyPath: join(dir, 'key.pub.json'),
    });
    const publicText = readFileSync(paths.publicKeyPath, 'utf8');
    expect(JSON.parse(publicText)).toEqual(pair.publicJwk);
    expect(publicText).not.toContain('"d"');
    expect(publicText).not.toContain(pair.privateJwk.d);
    expect(JSON.parse(readFileSync(paths.privateKeyPath, 'utf8'))).toEqual(pair.privateJwk);
  });

  test('a path without .json gets .pub.json appended', async () => {
    const paths = await writeKeyPair(join(dir, 'root'), await generateKeyPair());
    expect(paths.publicKeyPath).toBe(join(dir, 'root.pub.json'));
    expect(statSync(paths.publicKeyPath).isFile()).toBe(true);
  });

  test('refuses to overwrite an existing private key, and names the file and the way out', async () => {
    const path = join(dir, 'key.json');
    const first = await generateKeyPair();
    await writeKeyPair(path, first);
    const error = await keyError(writeKeyPair(path, await generateKeyPair()));
    expect(error.message).toContain(path);
    expect(error.message).toContain('overwrite: true');
    expect((await readPrivateKeyFile(path)).d).toBe(first.privateJwk.d);
  });

  test('refuses to write beside an existing .pub.json (it would publish a stale key)', async () => {
    const path = join(dir, 'key.json');
    writeFileSync(join(dir, 'key.pub.json'), '{}');
    const error = await keyError(writeKeyPair(path, await generateKeyPair()));
    expect(error.message).toContain('key.pub.json');
    expect(() => statSync(path)).toThrow();
  });

  test.runIf(posix)('overwrite replaces both files, keeping the modes', async () => {
    const path = join(dir, 'key.json');
    await writeKeyPair(path, await generateKeyPair());
    chmodSync(join(dir, 'key.pub.json'), 0o600);
    const second = await generateKeyPair();
    await writeKeyPair(path, second, { overwrite: true });
    expect(await readPrivateKeyFile(path)).toEqual(second.privateJwk);
    expect(await readPublicKeyFile(join(dir, 'key.pub.json'))).toEqual(second.publicJwk);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'key.pub.json')).mode & 0o777).toBe(0o644);
  });

  test('refuses an inconsistent pair', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    await keyError(writeKeyPair(join(dir, 'key.json'), { ...a, publicJwk: b.publicJwk }));
    await keyError(
      writeKeyPair(join(dir, 'key.json'), {
        ...a,
        privateJwk: { ...a.privateJwk, x: b.publicJwk.x },
      }),
    );
  });

  test('a missing directory is a KeyError naming it', async () => {
    const error = await keyError(
      writeKeyPair(join(dir, 'absent', 'key.json'), await generateKeyPair()),
    );
    expect(error.message).toContain(join(dir, 'absent'));
  });
});

describe('readPrivateKeyFile', () => {
  test('reads back what writeKeyPair wrote', async () => {
    const pair = await generateKeyPair();
    const { privateKeyPath } = await writeKeyPair(join(dir, 'key.json'), pair);
    expect(await readPrivateKeyFile(privateKeyPath)).toEqual(pair.privateJwk);
  });

  test.runIf(posix)('refuses a file other users can read, with the chmod hint', async () => {
    const { privateKeyPath } = await writeKeyPair(join(dir, 'key.json'), await generateKeyPair());
    chmodSync(privateKeyPath, 0o644);
    const error = await keyError(readPrivateKeyFile(privateKeyPath));
    expect(error.message).toBe(
      `${privateKeyPath} is readable by other users (mode 0644); run: chmod 600 ${privateKeyPath}`,
    );
    chmodSync(privateKeyPath, 0o620);
    expect((await keyError(readPrivateKeyFile(privateKeyPath))).message).toContain(
      'writable by other users (mode 0620)',
    );
  });

  test.runIf(posix)('the chmod hint quotes a path that needs it', async () => {
    const path = join(dir, "it's a key.json");
    await writeKeyPair(path, await generateKeyPair());
    chmodSync(path, 0o640);
    const error = await keyError(readPrivateKeyFile(path));
    expect(error.message).toContain(`run: chmod 600 '${dir}/it'\\''s a key.json'`);
  });

  test('a missing file says so and what to do', async () => {
    const path = join(dir, 'nope.json');
    const error = await keyError(readPrivateKeyFile(path));
    expect(error.message).toBe(
      `${path} does not exist; check the path, or create a key pair (licensekit keygen)`,
    );
  });

  test('a corrupted file gives a KeyError that quotes none of its content', async () => {
    const pair = await generateKeyPair();
    const path = join(dir, 'key.json');
    const corruptions = [
      // Truncated mid-way: JSON.parse's own message would quote the text around the fault.
      JSON.stringify(pair.privateJwk).slice(0, 70),
      `${JSON.stringify(pair.privateJwk)}garbage`,
      JSON.stringify({ ...pair.privateJwk, d: `${pair.privateJwk.d}A` }),
      JSON.stringify({ ...pair.privateJwk, x: pair.privateJwk.d }),
      `{"d":"${pair.privateJwk.d}","d":"${pair.privateJwk.d}"}`,
    ];
    for (const text of corruptions) {
      writeFileSync(path, text, { mode: 0o600 });
      const error = await keyError(readPrivateKeyFile(path));
      expect(error.message).toContain(path);
      expect(error.message).not.toContain(pair.privateJwk.d);
      expect(error.message).not.toContain(pair.privateJwk.d.slice(0, 8));
      expect(error.message).not.toContain(pair.privateJwk.x.slice(0, 8));
      rmSync(path);
    }
  });

  test('a non-Ed25519 key is refused with what to do', async () => {
    const path = join(dir, 'rsa.json');
    writeFileSync(path, JSON.stringify({ kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'AQAB' }), {
      mode: 0o600,
    });
    const error = await keyError(readPrivateKeyFile(path));
    expect(error.message).toContain('is not an Ed25519 key');
    expect(error.message).toContain('keygen');
  });

  test('a public key file given as the private key is named as such', async () => {
    const { publicKeyPath } = await writeKeyPair(join(dir, 'key.json'), await generateKeyPair());
    chmodSync(publicKeyPath, 0o600);
    const error = await keyError(readPrivateKeyFile(publicKeyPath));
    expect(error.message).toContain('holds a public key, not a private key');
  });

  test('a directory is not a key file', async () => {
    expect((await keyError(readPrivateKeyFile(dir))).message).toContain(dir);
  });
});

describe('readPublicKeyFile', () => {
  test('reads the .pub.json', async () => {
    const pair = await generateKeyPair();
    const { publicKeyPath } = await writeKeyPair(join(dir, 'key.json'), pair);
    expect(await readPublicKeyFile(publicKeyPath)).toEqual(pair.publicJwk);
  });

  test('refuses a private key file and points to the .pub.json', async () => {
    const pair = await generateKeyPair();
    const { privateKeyPath } = await writeKeyPair(join(dir, 'key.json'), pair);
    const error = await keyError(readPublicKeyFile(privateKeyPath));
    expect(error.message).toContain(join(dir, 'key.pub.json'));
    expect(error.message).not.toContain(pair.privateJwk.d);
  });

  test('a kid that is not the thumbprint is refused', async () => {
    const pair = await generateKeyPair();
    const other = await generateKeyPair();
    const path = join(dir, 'key.pub.json');
    writeFileSync(path, JSON.stringify({ ...pair.publicJwk, kid: other.kid }));
    expect((await keyError(readPublicKeyFile(path))).message).toContain('"kid"');
  });
});
