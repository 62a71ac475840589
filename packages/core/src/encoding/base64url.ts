import { decodeNatively, encodeNatively } from '#native-base64url';
import { MalformedError } from '../errors.js';
import { utf8Decode, utf8Encode } from './utf8.js';

/**
 * Strict base64url (RFC 4648 §5) without padding, as JWS (RFC 7515 §2) requires.
 * Decoding rejects padding, characters outside the URL-safe alphabet, impossible lengths
 * and non-zero trailing bits, so every byte string has exactly one accepted text form:
 * a token cannot be altered into a second, equally valid spelling.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// Pure: a bundle whose code never encodes long inputs (the verifier's) drops it.
const CODES = /* @__PURE__ */ utf8Encode(ALPHABET);

const DECODE_TABLE = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

export function base64urlEncode(bytes: Uint8Array): string {
  if (bytes.length <= SHORT_INPUT) return base64urlEncodeShort(bytes);
  // Node encodes long input natively (base64url-node.ts); elsewhere it is encoded here.
  return encodeNatively(bytes) ?? base64urlEncodeLong(bytes);
}

/**
 * Up to here (ids, keys, hashes: what the verify path encodes) joining characters is about
 * three times faster than a byte array decoded to text; beyond, the array wins.
 */
const SHORT_INPUT = 48;

/**
 * {@link base64urlEncode} for values known to be short (key ids, hashes, token and license
 * ids: what the verify path encodes), without the long inputs' encoder, so the verifier's
 * bundles leave it out. Right for any length; past a few dozen bytes only slower.
 */
export function base64urlEncodeShort(bytes: Uint8Array): string {
  let text = '';
  const whole = bytes.length - (bytes.length % 3);
  let i = 0;
  for (; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    text +=
      ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  // A short last group is zero-padded; the characters that would only carry padding are cut.
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    text += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
    if (i + 1 < bytes.length) text += ALPHABET[(n >> 6) & 63]!;
  }
  return text;
}

/** Core's own encoder of long input: what runs where there is no native one (browsers). */
export function base64urlEncodeLong(bytes: Uint8Array): string {
  // Three bytes make four characters; a short last group is zero-padded, and the
  // characters that would only carry padding are cut off (no "=").
  // The characters go into a byte array decoded once: far faster than growing a string.
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  for (let i = 0, o = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out[o++] = CODES[n >> 18]!;
    out[o++] = CODES[(n >> 12) & 63]!;
    out[o++] = CODES[(n >> 6) & 63]!;
    out[o++] = CODES[n & 63]!;
  }
  return utf8Decode(out.subarray(0, Math.ceil((bytes.length * 4) / 3)));
}

/**
 * Decodes canonical unpadded base64url. `what` names the field for the error message.
 * @throws MalformedError('bad_base64url' | 'not_canonical')
 */
export function base64urlDecode(text: string, what = 'value'): Uint8Array {
  // One character carries 6 bits: a length of 4n + 1 leaves a byte with 6 bits or fewer.
  if (text.length % 4 === 1) {
    throw new MalformedError('bad_base64url', `${what}: impossible base64url length`);
  }
  // Node decodes long canonical text natively (base64url-node.ts); the rest is decoded here.
  const native = decodeNatively(text);
  if (native !== undefined) return native;
  const out = new Uint8Array((text.length * 3) >> 2);
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const value = sextet(text, i);
    if (value < 0) {
      throw new MalformedError('bad_base64url', `${what}: not base64url at index ${i}`);
    }
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = buffer >> bits;
      buffer &= (1 << bits) - 1;
    }
  }
  // The 2 or 4 bits left over belong to no byte: only zero bits give one text per bytes.
  if (buffer !== 0) {
    throw new MalformedError('not_canonical', `${what}: base64url with non-zero trailing bits`);
  }
  return out;
}

/** The 6-bit value of the character at `i`, or -1 (negative) outside the alphabet. */
function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? DECODE_TABLE[code]! : -1;
}

/**
 * The number of bytes `text` decodes to when it is canonical base64url, else -1. It checks
 * without decoding (no allocation): claims and keys validated on every verify only need
 * to know the text is canonical and how long its bytes are.
 */
export function canonicalBase64urlLength(text: string): number {
  const tail = text.length & 3;
  if (tail === 1) return -1;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    last = sextet(text, i);
    if (last < 0) return -1;
  }
  // The 4 (2) bits left over by 2 (3) final characters must be zero, as decoding requires.
  if ((tail === 2 && (last & 15) !== 0) || (tail === 3 && (last & 3) !== 0)) return -1;
  return (text.length * 3) >> 2;
}

/** True when `text` is canonical base64url of exactly `byteLength` bytes. */
export function isBase64urlOfLength(text: unknown, byteLength: number): text is string {
  return (
    typeof text === 'string' &&
    text.length === Math.ceil((byteLength * 4) / 3) &&
    canonicalBase64urlLength(text) === byteLength
  );
}
