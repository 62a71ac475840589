import { MalformedError } from '../errors.js';

/**
 * Strict base64url (RFC 4648 §5) without padding, as JWS (RFC 7515 §2) requires.
 * Decoding rejects padding, characters outside the URL-safe alphabet, impossible lengths
 * and non-zero trailing bits, so every byte string has exactly one accepted text form:
 * a token cannot be altered into a second, equally valid spelling.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const DECODE_TABLE = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

function sextet(text: string, index: number, what: string): number {
  const code = text.charCodeAt(index);
  const value = code < 128 ? DECODE_TABLE[code]! : -1;
  if (value < 0) {
    throw new MalformedError(
      'bad_base64url',
      `${what} is not base64url: character ${JSON.stringify(text[index])} at ${index}`,
    );
  }
  return value;
}

/**
 * Decodes canonical unpadded base64url. `what` names the field for the error message.
 * @throws MalformedError('bad_base64url' | 'not_canonical')
 */
export function base64urlDecode(text: string, what = 'value'): Uint8Array {
  const rest = text.length % 4;
  if (rest === 1) {
    throw new MalformedError('bad_base64url', `${what} has an impossible base64url length`);
  }
  const out = new Uint8Array(((text.length - rest) / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let o = 0;
  let i = 0;
  for (; i + 4 <= text.length; i += 4) {
    const n =
      (sextet(text, i, what) << 18) |
      (sextet(text, i + 1, what) << 12) |
      (sextet(text, i + 2, what) << 6) |
      sextet(text, i + 3, what);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (rest >= 2) {
    const a = sextet(text, i, what);
    const b = sextet(text, i + 1, what);
    out[o++] = (a << 2) | (b >> 4);
    if (rest === 2) {
      if ((b & 15) !== 0) throw nonCanonical(what);
    } else {
      const c = sextet(text, i + 2, what);
      out[o++] = ((b & 15) << 4) | (c >> 2);
      if ((c & 3) !== 0) throw nonCanonical(what);
    }
  }
  return out;
}

function nonCanonical(what: string): MalformedError {
  return new MalformedError('not_canonical', `${what} has non-zero trailing base64url bits`);
}

/** True when `text` is canonical base64url of exactly `byteLength` bytes. */
export function isBase64urlOfLength(text: unknown, byteLength: number): text is string {
  if (typeof text !== 'string' || text.length !== Math.ceil((byteLength * 4) / 3)) return false;
  try {
    return base64urlDecode(text).length === byteLength;
  } catch {
    return false;
  }
}
