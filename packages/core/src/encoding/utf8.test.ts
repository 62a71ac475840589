import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedError } from '../errors.js';
import { utf8Decode, utf8DecodeRange, utf8Encode } from './utf8.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What a strict decoder says of bytes: their text, or that they are not UTF-8. */
function expected(bytes: Uint8Array): string | 'invalid' {
  try {
    return strict.decode(bytes);
  } catch {
    return 'invalid';
  }
}

/** Bytes near the fast path's edges: ASCII, then some non-ASCII, around 64 bytes long. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((b) => b.map((x) => x & 0x7f)),
  fc.uint8Array({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => utf8Encode(text)),
  fc.integer({ min: 60, max: 68 }).map((n) => new Uint8Array(n).fill(0x61)),
);

describe('utf8DecodeRange', () => {
  test('property: any range decodes as a strict decoder does, or is refused as bad_encoding', () => {
    fc.assert(
      fc.property(bytes, fc.nat(), fc.nat(), (input, a, b) => {
        const start = input.length === 0 ? 0 : a % (input.length + 1);
        const end = start + (input.length === 0 ? 0 : b % (input.length - start + 1));
        const want = expected(input.subarray(start, end));
        const decode = () => utf8DecodeRange(input, start, end, 'a claim');
        if (want === 'invalid') {
          expect(decode).toThrowError(
            new MalformedError('bad_encoding', 'a claim is not valid UTF-8'),
          );
        } else {
          expect(decode()).toBe(want);
          expect(utf8Decode(input.slice(start, end))).toBe(want);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('short ASCII, a byte above 0x7F in it, and 64 bytes and more', () => {
    const text = utf8Encode('xx-photo-editor-xx');
    expect(utf8DecodeRange(text, 3, 15, 'id')).toBe('photo-editor');
    expect(utf8DecodeRange(utf8Encode('caf\u00e9'), 0, 5, 'name')).toBe('caf\u00e9');
    expect(() => utf8DecodeRange(new Uint8Array([0x61, 0xc3]), 0, 2, 'name')).toThrow(
      'name is not valid UTF-8',
    );
    const long = utf8Encode('a'.repeat(70));
    expect(utf8DecodeRange(long, 0, 64, 'text')).toBe('a'.repeat(64));
    expect(utf8DecodeRange(long, 3, 3, 'text')).toBe('');
  });
});
