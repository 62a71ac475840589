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
  return utf8DecodeRange(bytes, 0, bytes.length, what);
}

/**
 * The text of bytes[start, end), read in place (the CBOR decoder's text strings).
 * @throws MalformedError('bad_encoding') on invalid UTF-8
 */
export function utf8DecodeRange(
  bytes: Uint8Array,
  start: number,
  end: number,
  what: string,
): string {
  // Claims are mostly short ASCII, valid UTF-8 byte for byte: built here without a native
  // call (nor a view of the range). Anything else (a byte above 0x7F, long text) goes to
  // the fatal decoder.
  let text = '';
  for (let at = start; at < end && end - start < 64 && bytes[at]! < 0x80; at++) {
    text += String.fromCharCode(bytes[at]!);
  }
  if (text.length === end - start) return text;
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    throw new MalformedError('bad_encoding', `${what} is not valid UTF-8`);
  }
}
