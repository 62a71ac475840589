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

/** True when the string has no unpaired UTF-16 surrogate (so it encodes to UTF-8 losslessly). */
export function isWellFormedText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
