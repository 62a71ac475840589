import { MalformedError } from '../errors.js';
import { utf8Decode } from './utf8.js';

/**
 * A strict CBOR decoder (RFC 8949) for the verification path. It accepts only the
 * subset licensekit documents use, in preferred serialization (RFC 8949 §4.1), and
 * rejects everything else before any value is built:
 *
 * - integers, byte and text strings, arrays, maps, tags, false/true/null;
 *   no floats, no `undefined`, no other simple values;
 * - definite lengths only, each argument in its shortest form;
 * - integers within ±(2^53 − 1), so no value is silently rounded;
 * - map keys are integers or text and never repeat (RFC 8949 §5.6: a duplicate makes the
 *   map invalid; §5.4 lets a strict decoder reject it);
 * - a declared length may not exceed the bytes left, so hostile lengths allocate nothing;
 * - nesting at most `maxDepth`; nothing may follow the top-level item.
 *
 * Maps decode to `Map` (keys keep their CBOR type: 1 and "1" differ). Tags decode to
 * `CborTag`. It uses no eval or `new Function`, so it runs under an extension's CSP.
 * (cbor-x, which encodes our documents, is the general decoder in tests; its no-eval
 * decoder alone is 7 KB min+gzip and keeps the last of duplicate keys.)
 */

export type CborValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | CborValue[]
  | Map<CborKey, CborValue>
  | CborTag;

export type CborKey = number | string;

export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export interface StrictCborOptions {
  maxDepth?: number;
  what?: string;
}

const DEFAULT_MAX_DEPTH = 16;

class Reader {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
    private readonly what: string,
  ) {}

  decodeDocument(): CborValue {
    const value = this.item(1);
    if (this.pos !== this.bytes.length) {
      throw new MalformedError(
        'trailing_bytes',
        `${this.what}: ${this.bytes.length - this.pos} bytes after the CBOR item`,
      );
    }
    return value;
  }

  private fail(reason: 'bad_cbor' | 'not_canonical' | 'bad_structure', message: string): never {
    throw new MalformedError(reason, `${this.what}: ${message} at offset ${this.pos}`);
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) this.fail('bad_cbor', 'truncated CBOR');
    return this.bytes[this.pos++]!;
  }

  /** Reads the argument of an initial byte; enforces the shortest encoding. */
  private argument(info: number): number {
    if (info < 24) return info;
    let value: number;
    let minimum: number;
    if (info === 24) {
      value = this.byte();
      minimum = 24;
    } else if (info === 25) {
      value = (this.byte() << 8) | this.byte();
      minimum = 0x100;
    } else if (info === 26) {
      value = ((this.byte() << 24) | (this.byte() << 16) | (this.byte() << 8) | this.byte()) >>> 0;
      minimum = 0x10000;
    } else if (info === 27) {
      const high =
        ((this.byte() << 24) | (this.byte() << 16) | (this.byte() << 8) | this.byte()) >>> 0;
      const low =
        ((this.byte() << 24) | (this.byte() << 16) | (this.byte() << 8) | this.byte()) >>> 0;
      if (high > 0x1fffff) {
        throw new MalformedError(
          'unsafe_integer',
          `${this.what}: CBOR integer or length above 2^53 − 1`,
        );
      }
      value = high * 0x100000000 + low;
      minimum = 0x100000000;
    } else if (info === 31) {
      return this.fail('not_canonical', 'indefinite-length item');
    } else {
      return this.fail('bad_cbor', 'reserved additional information');
    }
    if (value < minimum) this.fail('not_canonical', 'integer or length not in its shortest form');
    return value;
  }

  private length(info: number): number {
    const length = this.argument(info);
    if (length > this.bytes.length - this.pos) {
      throw new MalformedError('too_long', `${this.what}: declared length exceeds the data`);
    }
    return length;
  }

  private item(depth: number): CborValue {
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 31;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        if (n === Number.MAX_SAFE_INTEGER) {
          throw new MalformedError(
            'unsafe_integer',
            `${this.what}: CBOR integer below −(2^53 − 1)`,
          );
        }
        return -1 - n;
      }
      case 2: {
        const length = this.length(info);
        this.pos += length;
        return this.bytes.slice(this.pos - length, this.pos);
      }
      case 3: {
        const length = this.length(info);
        this.pos += length;
        return utf8Decode(this.bytes.subarray(this.pos - length, this.pos), this.what);
      }
      case 4: {
        this.enter(depth);
        // Every element takes at least one byte, so a count above the bytes left is a lie.
        const count = this.length(info);
        const array: CborValue[] = new Array(count);
        for (let i = 0; i < count; i++) array[i] = this.item(depth + 1);
        return array;
      }
      case 5: {
        this.enter(depth);
        const count = this.argument(info);
        if (count * 2 > this.bytes.length - this.pos) {
          throw new MalformedError('too_long', `${this.what}: declared map size exceeds the data`);
        }
        const map = new Map<CborKey, CborValue>();
        for (let i = 0; i < count; i++) {
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string') {
            this.fail('bad_structure', 'map key is neither an integer nor text');
          }
          if (map.has(key)) {
            throw new MalformedError(
              'duplicate_key',
              `${this.what}: duplicate map key ${JSON.stringify(key)}`,
            );
          }
          map.set(key, this.item(depth + 1));
        }
        return map;
      }
      case 6: {
        this.enter(depth);
        const tag = this.argument(info);
        return new CborTag(tag, this.item(depth + 1));
      }
      default:
        return this.simple(info);
    }
  }

  private simple(info: number): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info >= 25 && info <= 27) return this.fail('bad_structure', 'floating-point value');
    if (info === 31) return this.fail('bad_cbor', 'unexpected break');
    return this.fail('bad_structure', 'unsupported simple value');
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) {
      throw new MalformedError(
        'too_deep',
        `${this.what}: CBOR nested deeper than ${this.maxDepth}`,
      );
    }
  }
}

/**
 * Decodes one CBOR item strictly. The caller has already applied the size cap.
 * @throws MalformedError (bad_cbor, not_canonical, bad_structure, unsafe_integer, too_long,
 *   too_deep, duplicate_key, trailing_bytes, bad_encoding)
 */
export function decodeStrictCbor(bytes: Uint8Array, options: StrictCborOptions = {}): CborValue {
  return new Reader(
    bytes,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
    options.what ?? 'CBOR',
  ).decodeDocument();
}
