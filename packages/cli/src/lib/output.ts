import { writeOutputFile } from './files.js';
import type { Io } from './io.js';

/**
 * Prints a signed document on stdout, alone and newline-terminated, so `$(licensekit …)`
 * captures exactly the token; with `--out`, writes it to the file and says so on stderr.
 */
export async function emitDocument(
  text: string,
  out: string | undefined,
  io: Io,
  what: string,
): Promise<void> {
  if (out === undefined) {
    io.out(`${text}\n`);
    return;
  }
  await writeOutputFile(out, `${text}\n`);
  io.err(`wrote ${what} to ${out}\n`);
}
