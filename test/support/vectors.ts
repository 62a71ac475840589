import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (the directory holding pnpm-workspace.yaml). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Test vectors written by others live in ../shared/vectors beside the checkout (CI puts
 * shared/ there). LICENSEKIT_VECTORS overrides the location.
 */
export const vectorsDir = process.env.LICENSEKIT_VECTORS ?? resolve(repoRoot, '../shared/vectors');

export function readVector<T = unknown>(relativePath: string): T {
  const file = join(vectorsDir, relativePath);
  if (!existsSync(file)) {
    throw new Error(
      `test vector ${file} is missing: put the shared/ directory beside the checkout or set LICENSEKIT_VECTORS`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
