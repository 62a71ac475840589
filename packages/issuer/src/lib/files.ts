import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KeyError } from '@licensekit/core';

/**
 * File primitives for key files. Every failure becomes a KeyError that names the file and
 * says what to do; none quotes the file's content, which may be a private key.
 */

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** A KeyError for an fs failure on `path`, or the original error when it is not one we know. */
export function fileError(error: unknown, path: string, action: 'read' | 'write'): Error {
  switch (errnoOf(error)) {
    case 'ENOENT':
      return action === 'read'
        ? new KeyError(
            `${path} does not exist; check the path, or create a key pair (licensekit keygen)`,
          )
        : new KeyError(
            `cannot write ${path}: the directory ${dirname(path)} does not exist; create it first`,
          );
    case 'EACCES':
    case 'EPERM':
      return new KeyError(
        `cannot ${action} ${path}: permission denied; run as the user who owns it`,
      );
    case 'EISDIR':
      return new KeyError(`${path} is a directory; give the path of a key file`);
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** True when something (a file, a directory, a dangling symlink) already has this name. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw fileError(error, path, 'write');
  }
}

async function writeAndClose(handle: FileHandle, content: string, mode: number): Promise<void> {
  try {
    // The mode given to open() is reduced by the umask; fchmod sets it exactly.
    await handle.chmod(mode);
    await handle.writeFile(content, 'utf8');
    // A key lost to a power cut after "written" is a key lost: flush before reporting success.
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` with exactly `mode` and writes `content`. The 'wx' flag (O_CREAT|O_EXCL)
 * fails when the name exists, even as a symlink, so no existing file is ever replaced and
 * no link planted in the directory is followed. Returns false when the file already exists.
 */
export async function writeNewFile(path: string, content: string, mode: number): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', mode);
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw fileError(error, path, 'write');
  }
  try {
    await writeAndClose(handle, content, mode);
  } catch (error) {
    await unlink(path).catch(() => undefined);
    throw fileError(error, path, 'write');
  }
  return true;
}

/**
 * Replaces `path` atomically: the content goes to a new file in the same directory (same
 * file system, so rename(2) is atomic), which then takes the name. A reader sees the old
 * key or the new one, never a torn file, and a symlink at `path` is replaced, not followed.
 */
export async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  if (!(await writeNewFile(temporary, content, mode))) {
    throw new KeyError(`cannot write ${path}: temporary file ${temporary} exists; remove it`);
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw fileError(error, path, 'write');
  }
}

/** A key file's bytes with its permission bits. */
export interface KeyFileContent {
  bytes: Uint8Array;
  mode: number;
}

/**
 * Reads a small regular file. Mode and content come from the same open descriptor
 * (fstat), so the permissions checked are those of the file read.
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<KeyFileContent> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO planted at the path must fail fast, not hang the issuer.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fileError(error, path, 'read');
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw new KeyError(`${path} is not a regular file; give the path of a key file`);
    if (stats.size > maxBytes) {
      throw new KeyError(
        `${path} is ${stats.size} bytes, too large for a key file; check the path`,
      );
    }
    const bytes = new Uint8Array(await handle.readFile());
    return { bytes, mode: stats.mode & 0o777 };
  } catch (error) {
    throw error instanceof KeyError ? error : fileError(error, path, 'read');
  } finally {
    await handle.close();
  }
}
