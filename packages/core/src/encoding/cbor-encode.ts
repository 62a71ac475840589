import { CborTag } from './cbor-decode.js';

/**
 * CBOR encoding (RFC 8949) in the preferred serialization the strict decoder demands
 * (§4.1: every argument in its shortest form, definite lengths), for the issuing side.
 * Maps keep their insertion order and their key types; byte strings are untagged.
 *
 * Integers are written as integers whatever their size, up to ±(2^53 − 1) as numbers and
 * to 64 bits as BigInt; other numbers as float64 (only tests write those, to see the
 * decoder refuse them). It replaced cbor-x here: the issuer encodes two small maps per
 * token, and a writer that knows only this profile does it in a fraction of the time
 * (cbor-x stays the interop oracle of the tests, `cbor-encode.test.ts`).
 */

export type CborEncodable =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborEncodable[]
  | Map<number | string, CborEncodable>
  | CborTag;

export function encodeCbor(value: CborEncodable): Uint8Array {
  // One writer for every call: encoding is synchronous, so no two calls ever share it.
  writer.length = 0;
  writer.value(value);
  return writer.bytes.slice(0, writer.length);
}

/** A tagged value (major type 6), e.g. COSE_Sign1 is tag 18. */
export function cborTag(tag: number, value: CborEncodable): CborTag {
  return new CborTag(tag, value as never);
}

const encoder = new TextEncoder();
// In a `u` regex, \p{Cs} matches only a surrogate without its pair.
const LONE_SURROGATE = /\p{Cs}/u;

class Writer {
  bytes = new Uint8Array(256);
  length = 0;

  reserve(size: number): void {
    if (this.length + size <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + size));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** The head of an item: major type and argument, in the shortest form. */
  head(major: number, argument: number): void {
    this.reserve(9);
    const bytes = this.bytes;
    const m = major << 5;
    let at = this.length;
    if (argument < 24) bytes[at++] = m | argument;
    else if (argument < 0x100) {
      bytes[at++] = m | 24;
      bytes[at++] = argument;
    } else if (argument < 0x10000) {
      bytes[at++] = m | 25;
      bytes[at++] = argument >> 8;
      bytes[at++] = argument & 255;
    } else if (argument < 0x100000000) {
      bytes[at++] = m | 26;
      bytes[at++] = argument >>> 24;
      bytes[at++] = (argument >> 16) & 255;
      bytes[at++] = (argument >> 8) & 255;
      bytes[at++] = argument & 255;
    } else {
      bytes[at++] = m | 27;
      const high = Math.floor(argument / 0x100000000);
      const low = argument >>> 0;
      for (const word of [high, low]) {
        bytes[at++] = word >>> 24;
        bytes[at++] = (word >> 16) & 255;
        bytes[at++] = (word >> 8) & 255;
        bytes[at++] = word & 255;
      }
    }
    this.length = at;
  }

  value(value: CborEncodable): void {
    if (typeof value === 'number') this.number(value);
    else if (typeof value === 'string') this.text(value);
    else if (typeof value === 'bigint') this.bigint(value);
    else if (typeof value === 'boolean') this.simple(value ? 21 : 20);
    else if (value === undefined) this.simple(23);
    else if (value === null) this.simple(22);
    else if (value instanceof Uint8Array) {
      this.head(2, value.length);
      this.reserve(value.length);
      this.bytes.set(value, this.length);
      this.length += value.length;
    } else if (Array.isArray(value)) {
      this.head(4, value.length);
      for (const item of value) this.value(item);
    } else if (value instanceof Map) {
      this.head(5, value.size);
      for (const [key, item] of value) {
        this.value(key);
        this.value(item);
      }
    } else if (value instanceof CborTag) {
      this.head(6, value.tag);
      this.value(value.value as CborEncodable);
    } else {
      throw new TypeError(`cannot encode ${Object.prototype.toString.call(value)} as CBOR`);
    }
  }

  number(value: number): void {
    if (Number.isSafeInteger(value)) {
      if (value >= 0) this.head(0, value);
      else this.head(1, -1 - value);
      return;
    }
    this.reserve(9);
    this.bytes[this.length] = 0xfb;
    new DataView(this.bytes.buffer).setFloat64(this.length + 1, value);
    this.length += 9;
  }

  bigint(value: bigint): void {
    const negative = value < 0n;
    const magnitude = negative ? -1n - value : value;
    if (magnitude >= 1n << 64n) throw new RangeError('CBOR integers are at most 64 bits');
    if (magnitude <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.head(negative ? 1 : 0, Number(magnitude));
      return;
    }
    this.reserve(9);
    this.bytes[this.length] = ((negative ? 1 : 0) << 5) | 27;
    new DataView(this.bytes.buffer).setBigUint64(this.length + 1, magnitude);
    this.length += 9;
  }

  text(value: string): void {
    // Claims are mostly short ASCII: written byte by byte, no native call.
    if (value.length < 24) {
      let ascii = true;
      for (let i = 0; i < value.length; i++) {
        if (value.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.reserve(1 + value.length);
        this.bytes[this.length++] = 0x60 | value.length;
        for (let i = 0; i < value.length; i++) this.bytes[this.length++] = value.charCodeAt(i);
        return;
      }
    }
    // TextEncoder would write an unpaired surrogate as U+FFFD: another string than given.
    if (LONE_SURROGATE.test(value)) throw new TypeError('text with an unpaired surrogate');
    const utf8 = encoder.encode(value);
    this.head(3, utf8.length);
    this.reserve(utf8.length);
    this.bytes.set(utf8, this.length);
    this.length += utf8.length;
  }

  simple(code: number): void {
    this.reserve(1);
    this.bytes[this.length++] = 0xe0 | code;
  }
}

const writer = new Writer();
