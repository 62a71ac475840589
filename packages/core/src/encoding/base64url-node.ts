/**
 * `#native-base64url` on Node (the "node" condition): Node's own encoder and decoder for
 * core's. Encoding a token as the issuer does (a 600-byte CWT) in JavaScript was 4 % of
 * `node bench/profile.mjs issue-cwt`; Node's `base64url` is RFC 4648 §5 without padding,
 * the very text core's encoder writes (tested equal). Decoding: in
 * `node bench/profile.mjs cwt-verify`, decoding the 603-character token (a CWT as
 * the store issues it) fell from 2.2 % to 1.4 % of the samples, the checks included.
 * Node's decoder skips what it does not understand, so text reaches it only once a regular
 * expression has found it canonical; anything else (and text too short to be worth the
 * call) is left to core's decoder, which names the fault. It writes into a fresh array,
 * not a pooled Buffer, so no caller can reach other data through `.buffer`.
 */
import { Buffer } from 'node:buffer';

const NATIVE_FROM = 64;

// `\w` without the u flag is [A-Za-z0-9_]: with "-", the base64url alphabet.
const ALPHABET_ONLY = /^[\w-]*$/;

/**
 * Whole groups of 4 characters, then none, or 2 whose last carries 4 zero bits (values 0,
 * 16, 32, 48), or 3 whose last carries 2 zero bits (values divisible by 4): one text per
 * byte string. A length of 4n + 1 is never canonical.
 */
function canonicalEnd(text: string): boolean {
  const tail = text.length & 3;
  const last = text[text.length - 1]!;
  return tail === 0 || (tail === 2 ? 'AQgw' : tail === 3 ? 'AEIMQUYcgkosw048' : '').includes(last);
}

/** The bytes of `text` when it is long and canonical, else undefined (core decodes it). */
export function decodeNatively(text: string): Uint8Array | undefined {
  if (text.length < NATIVE_FROM || !canonicalEnd(text) || !ALPHABET_ONLY.test(text)) {
    return undefined;
  }
  const length = (text.length * 3) >> 2;
  const bytes = new Uint8Array(length);
  Buffer.from(bytes.buffer, 0, length).write(text, 'base64url');
  return bytes;
}

/** The unpadded base64url of `bytes`, from Node's encoder. */
export function encodeNatively(bytes: Uint8Array): string | undefined {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}
