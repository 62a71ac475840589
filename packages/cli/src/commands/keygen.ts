import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, publicKeyPathFor, writeKeyPair } from '@licensekit/issuer';
import { EXIT, UsageError } from '../lib/errors.js';
import { fileExists, fileProblem } from '../lib/files.js';
import type { Io } from '../lib/io.js';

export interface KeygenFlags {
  out: string;
  force?: boolean;
}

/**
 * `licensekit keygen --out key.json [--force]`: a new Ed25519 key pair, the private JWK
 * in key.json (0600), the public one in key.pub.json. Prints the kid (the RFC 7638
 * thumbprint) on stdout, alone, so `KID=$(licensekit keygen --out k.json)` works; a device
 * key made this way gives the thumbprint that `issue --bind` takes.
 */
export async function keygen(flags: KeygenFlags, io: Io): Promise<number> {
  try {
    await mkdir(dirname(flags.out), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileProblem(error, dirname(flags.out), 'write', 'directory');
  }
  if (flags.out.endsWith('.pub.json')) {
    throw new UsageError(
      `--out ${flags.out} is a public key file name; give the private key file, e.g. key.json`,
    );
  }
  if (flags.force !== true) {
    for (const path of [flags.out, publicKeyPathFor(flags.out)]) {
      if (await fileExists(path)) {
        throw new UsageError(
          `${path} already exists; choose another --out, or pass --force to replace it (the old key is then lost)`,
        );
      }
    }
  }
  const pair = await generateKeyPair();
  const { privateKeyPath, publicKeyPath } = await writeKeyPair(flags.out, pair, {
    overwrite: flags.force === true,
  });
  io.err(
    `wrote ${privateKeyPath} (private, mode 0600: keep it secret) and ${publicKeyPath} (public)\n`,
  );
  io.out(`${pair.kid}\n`);
  return EXIT.ok;
}
