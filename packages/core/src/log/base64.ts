/**
 * Standard padded base64 (RFC 4648 §4), the encoding of C2SP notes, checkpoints and keys.
 * Built on the strict base64url codec: the alphabets differ only in two characters, and
 * requiring the exact padding keeps one accepted spelling per byte string.
 */
import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;

export function base64Encode(bytes: Uint8Array): string {
  const url = base64urlEncode(bytes).replace(/-/g, '+').replace(/_/g, '/');
  return url.padEnd(Math.ceil(url.length / 4) * 4, '=');
}

/**
 * The bytes of canonical padded base64, or undefined for anything else (a wrong alphabet,
 * missing or extra padding, non-zero trailing bits): callers report it in their own terms.
 */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !STANDARD.test(text)) return undefined;
  // With the length a multiple of 4 and at most two '=', the padding is exactly what the
  // last group needs; the base64url decoder then refuses non-zero trailing bits.
  const unpadded = text.replace(/=+$/, '');
  try {
    return base64urlDecode(unpadded.replace(/\+/g, '-').replace(/\//g, '_'));
  } catch {
    return undefined;
  }
}
