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
  // Claims are mostly short ASCII, valid UTF-8 byte for byte: built here without a native
  // call. Anything else goes to the fatal decoder.
  if (bytes.length < 64) {
    let text = '';
    for (const byte of bytes) {
      if (byte > 0x7f) return decodeFatally(bytes, what);
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return decodeFatally(bytes, what);
}

function decodeFatally(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new MalformedError('bad_encoding', `${what} is not valid UTF-8`);
  }
}
