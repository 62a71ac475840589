import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '@licensekit/verifier/node';

/**
 * Files in the data directory that hold secrets: created on first start with mode 0600
 * in a 0700 directory, read as they are afterwards. Never logged, never served.
 */
export async function ensureSecretFile(
  dataDir: string,
  name: string,
  create: () => string,
): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, name);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = create();
  await writeAtomically(path, `${value}\n`);
  await chmod(path, 0o600);
  return value;
}
