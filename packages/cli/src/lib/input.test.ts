import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, writeKeyPair } from '@licensekit/issuer';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { capturingIo, type Io } from './io.js';
import { signerFromFile } from './keys.js';
import { readToken } from './token-input.js';
import { readTrustKey, readTrustKeys } from './trust.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'licensekit-cli-'));
});

const stdinIo = (text: string): Io => ({ ...capturingIo(), readStdin: async () => text });

describe('readToken', () => {
  it('takes the argument, a file or stdin, trimmed', async () => {
    const file = join(dir, 'token.txt');
    await writeFile(file, '  abc.def.ghi \n');
    expect(await readToken({ token: ' tok \n' }, capturingIo())).toBe('tok');
    expect(await readToken({ file }, capturingIo())).toBe('abc.def.ghi');
    expect(await readToken({ token: '-' }, stdinIo('from-stdin\n'))).toBe('from-stdin');
    expect(await readToken({ file: '-' }, stdinIo('\tpiped\n'))).toBe('piped');
  });

  it('refuses none, both, a missing file, a directory and empty input', async () => {
    await expect(readToken({}, capturingIo())).rejects.toThrow(
      /no token given; pass it as an argument, with --file FILE, or -/,
    );
    await expect(readToken({ token: 'a', file: 'b' }, capturingIo())).rejects.toThrow(/not both/);
    await expect(readToken({ file: join(dir, 'missing.cwt') }, capturingIo())).rejects.toThrow(
      /missing\.cwt does not exist/,
    );
    await expect(readToken({ file: dir }, capturingIo())).rejects.toThrow(/is a directory/);
    await expect(readToken({ token: '-' }, stdinIo(' \n'))).rejects.toThrow(
      /standard input is empty/,
    );
  });
});

describe('key files', () => {
  let privatePath: string;
  let publicPath: string;
  beforeAll(async () => {
    privatePath = join(dir, 'key.json');
    ({ publicKeyPath: publicPath } = await writeKeyPair(privatePath, await generateKeyPair()));
  });

  it('trusts a public key file, with its kid', async () => {
    const key = await readTrustKey(publicPath);
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toHaveProperty('d');
  });

  it('refuses a private key as --trust and names the public file, without quoting the key', async () => {
    const error = await readTrustKey(privatePath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      /is a private key; --trust takes the public key file: give .*key\.pub\.json instead/,
    );
    const { d } = JSON.parse(
      await (await import('node:fs/promises')).readFile(privatePath, 'utf8'),
    );
    expect((error as Error).message).not.toContain(d);
  });

  it('refuses no --trust, a non-JSON file and a non-Ed25519 key', async () => {
    await expect(readTrustKeys([])).rejects.toThrow(/--trust KEY is required/);
    const junk = join(dir, 'junk.json');
    await writeFile(junk, 'not json');
    await expect(readTrustKey(junk)).rejects.toThrow(/is not a JSON key file/);
    const rsa = join(dir, 'rsa.json');
    await writeFile(rsa, JSON.stringify({ kty: 'RSA', n: 'AQAB', e: 'AQAB' }));
    await expect(readTrustKey(rsa)).rejects.toThrow(/is not an Ed25519 public key/);
  });

  it('refuses a public key as --key and a private key readable by others', async () => {
    await expect(signerFromFile(publicPath, '--key')).rejects.toThrow(
      /is a public key; give the private key file/,
    );
    const open = join(dir, 'open.json');
    await writeFile(open, await (await import('node:fs/promises')).readFile(privatePath));
    await chmod(open, 0o644);
    await expect(signerFromFile(open, '--key')).rejects.toThrow(
      /readable by other users .*chmod 600/,
    );
  });
});
