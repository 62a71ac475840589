import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path` so that readers see the old or the new content, never a mix:
 * a temporary file in the same directory, fsynced, renamed over `path` (atomic on POSIX
 * file systems), then the directory fsynced so the rename itself survives a crash.
 * Mode 0600 by default (state and keys); documents meant to be carried elsewhere (an
 * offline request, its QR codes) pass 0o644.
 */
export async function writeAtomically(
  path: string,
  text: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const handle = await open(
    temporary,
    constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
    mode,
  );
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  // Persist the rename itself (the directory entry); not every platform allows it.
  const directory = await open(dirname(path), constants.O_RDONLY).catch(() => undefined);
  await directory?.sync().catch(() => undefined);
  await directory?.close();
}
