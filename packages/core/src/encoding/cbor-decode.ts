import type { MalformedReason } from '../errors.js';
import { MalformedError } from '../errors.js';
import { utf8DecodeRange } from './utf8.js';

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
  /**
   * Byte strings as views into `bytes` instead of copies. For the decoder's own callers,
   * which hold the bytes and never write to them (the COSE_Sign1 parts of a token).
   */
  share?: boolean;
}

const DEFAULT_MAX_DEPTH = 16;
const SHORTEST = [24, 0x100, 0x10000, 0x100000000];

/**
 * Decodes one CBOR item strictly. The caller has already applied the size cap.
 * @throws MalformedError (bad_cbor, not_canonical, bad_structure, unsafe_integer, too_long,
 *   too_deep, duplicate_key, trailing_bytes, bad_encoding)
 */
export function decodeStrictCbor(bytes: Uint8Array, options: StrictCborOptions = {}): CborValue {
  // The state of one run lives in module variables: decoding is synchronous and never
  // re-entered, and plain variables keep the verify path free of per-call allocations
  // (and minify to one letter each).
  input = bytes;
  pos = 0;
  maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  what = options.what ?? 'CBOR';
  share = options.share === true;
  const value = item(1);
  if (pos !== bytes.length) fail('trailing_bytes', `${bytes.length - pos} bytes after the item`);
  return value;
}

let input: Uint8Array = new Uint8Array(0);
let pos = 0;
let maxDepth = DEFAULT_MAX_DEPTH;
let what = 'CBOR';
let share = false;

function fail(reason: MalformedReason, message: string): never {
  throw new MalformedError(reason, `${what}: ${message} at offset ${pos}`);
}

/** Reads the argument of an initial byte; enforces the shortest encoding. */
function argument(info: number): number {
  if (info < 24) return info;
  if (info === 31) return fail('not_canonical', 'indefinite length');
  if (info > 27) return fail('bad_cbor', 'reserved additional information');
  // 1, 2, 4 or 8 bytes, big-endian (RFC 8949 §3).
  const length = 1 << (info - 24);
  if (length > input.length - pos) fail('bad_cbor', 'truncated');
  let value = 0;
  // Exact up to 2^53 − 1; beyond, rounding keeps every partial value at 2^53 or more.
  for (let i = 0; i < length; i++) value = value * 256 + input[pos++]!;
  if (value > Number.MAX_SAFE_INTEGER) fail('unsafe_integer', 'integer beyond 2^53 - 1');
  // The smallest value that needs this many bytes: 24, 2^8, 2^16, 2^32.
  if (value < SHORTEST[info - 24]!) fail('not_canonical', 'argument not in its shortest form');
  return value;
}

/** A declared length or count, `size` bytes at least per unit, must fit in what is left. */
function fits(count: number, size: number): number {
  return count * size > input.length - pos ? fail('too_long', 'length exceeds the data') : count;
}

function item(depth: number): CborValue {
  if (pos >= input.length) fail('bad_cbor', 'truncated');
  const initial = input[pos++]!;
  const major = initial >> 5;
  const info = initial & 31;
  if (major === 7) return simple(info);
  if (major > 3 && depth > maxDepth) fail('too_deep', `nested deeper than ${maxDepth}`);
  const n = argument(info);
  switch (major) {
    case 0:
      return n;
    case 1:
      return n === Number.MAX_SAFE_INTEGER
        ? fail('unsafe_integer', 'integer beyond -(2^53 - 1)')
        : -1 - n;
    case 2:
      pos += fits(n, 1);
      // A copy made from the view: a Node Buffer's own slice() would be a view too.
      return share ? input.subarray(pos - n, pos) : new Uint8Array(input.subarray(pos - n, pos));
    case 3:
      pos += fits(n, 1);
      // Read in place: no view (an object per string) of the input.
      return utf8DecodeRange(input, pos - n, pos, what);
    case 4: {
      // Every element takes at least one byte, so a count above the bytes left is a lie.
      const array: CborValue[] = new Array(fits(n, 1));
      for (let i = 0; i < n; i++) array[i] = item(depth + 1);
      return array;
    }
    case 5: {
      const map = new Map<CborKey, CborValue>();
      for (let i = fits(n, 2); i > 0; i--) {
        const key = item(depth + 1);
        if (typeof key !== 'number' && typeof key !== 'string') {
          fail('bad_structure', 'map key must be an integer or text');
        }
        // A key already there leaves the size unchanged: one lookup per entry, not two.
        const size = map.size;
        map.set(key, item(depth + 1));
        if (map.size === size) fail('duplicate_key', `duplicate map key ${JSON.stringify(key)}`);
      }
      return map;
    }
    default:
      return new CborTag(n, item(depth + 1));
  }
}

function simple(info: number): CborValue {
  if (info === 20) return false;
  if (info === 21) return true;
  if (info === 22) return null;
  if (info >= 25 && info <= 27) return fail('bad_structure', 'floating-point value');
  if (info === 31) return fail('bad_cbor', 'unexpected break');
  return fail('bad_structure', 'unsupported simple value');
}
