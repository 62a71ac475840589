import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './errors.js';

function errno(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** A one-line UsageError for an fs failure on `path`, or the error itself when unknown. */
export function fileProblem(
  error: unknown,
  path: string,
  action: 'read' | 'write',
  what: string,
): Error {
  switch (errno(error)) {
    case 'ENOENT':
      return action === 'read'
        ? new UsageError(`${what} ${path} does not exist; check the path`)
        : new UsageError(
            `cannot write ${path}: the directory ${dirname(path)} does not exist; create it first`,
          );
    case 'EACCES':
    case 'EPERM':
      return new UsageError(
        `cannot ${action} ${what} ${path}: permission denied; check its owner and mode`,
      );
    case 'EISDIR':
      return new UsageError(`${what} ${path} is a directory; give the path of a file`);
    case 'ENOTDIR':
      return new UsageError(
        `${what} ${path}: a part of the path is not a directory; check the path`,
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Reads a text file of at most `maxBytes` (tokens are ≤ 8 KiB, revocation lists ≤ 512 KiB;
 * a larger file is the wrong file, and reading it whole would be wasted work).
 * @throws UsageError naming the file
 */
export async function readTextFile(
  path: string,
  what: string,
  maxBytes = 1024 * 1024,
): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileProblem(error, path, 'read', what);
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new UsageError(
        `${what} ${path} is ${size} bytes, more than a licensekit file can be; check the path`,
      );
    }
    return await handle.readFile('utf8');
  } catch (error) {
    throw fileProblem(error, path, 'read', what);
  } finally {
    await handle.close();
  }
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes an output file (a token, a certificate, a revocation list) through a temporary
 * file and a rename, so a reader never sees half a token and a failed write leaves the
 * previous file. These are public or customer-held documents, not secrets: mode 0644.
 * @throws UsageError naming the file
 */
export async function writeOutputFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const handle = await open(temporary, 'w', 0o644);
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw fileProblem(error, path, 'write', 'file');
  }
}
