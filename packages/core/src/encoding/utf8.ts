import { MalformedError } from '../errors.js';

const encoder = new TextEncoder();
// fatal: invalid UTF-8 (overlongs, lone surrogates, truncated sequences) is an error,
// never silently replaced with U+FFFD (which would let two byte strings read the same).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** @throws MalformedError('bad_encoding') on invalid UTF-8 */
export function utf8Decode(bytes: Uint8Array, what = 'value'): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new MalformedError('bad_encoding', `${what} is not valid UTF-8`);
  }
}
