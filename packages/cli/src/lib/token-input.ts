import { UsageError } from './errors.js';
import { readTextFile } from './files.js';
import type { Io } from './io.js';

/** Where a command takes its token: the positional argument, `--file F`, or `-` for stdin. */
export interface TokenSource {
  token?: string | undefined;
  file?: string | undefined;
}

// A license is at most 8 KiB and a revocation list 512 KiB; anything longer is not a token.
const MAX_TOKEN_BYTES = 1024 * 1024;

/**
 * Reads the token a command works on, with surrounding whitespace trimmed (a token file
 * ends with a newline; `$(licensekit issue …)` may carry one).
 * @throws UsageError when none or both sources are given, the file cannot be read, or it is empty
 */
export async function readToken(source: TokenSource, io: Io, what = 'token'): Promise<string> {
  const { token, file } = source;
  if (token !== undefined && file !== undefined) {
    throw new UsageError(`give the ${what} either as an argument or with --file, not both`);
  }
  let text: string;
  let origin: string;
  if (token === '-' || file === '-') {
    text = await io.readStdin();
    origin = 'standard input';
  } else if (file !== undefined) {
    text = await readTextFile(file, `${what} file`, MAX_TOKEN_BYTES);
    origin = file;
  } else if (token !== undefined) {
    text = token;
    origin = 'the argument';
  } else {
    throw new UsageError(
      `no ${what} given; pass it as an argument, with --file FILE, or - to read standard input`,
    );
  }
  const trimmed = text.trim();
  if (trimmed.length === 0)
    throw new UsageError(`the ${what} from ${origin} is empty; check what you passed`);
  return trimmed;
}
