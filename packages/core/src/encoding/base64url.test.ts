import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedError } from '../errors.js';
import {
  base64urlDecode,
  base64urlEncode,
  base64urlEncodeShort,
  canonicalBase64urlLength,
  isBase64urlOfLength,
} from './base64url.js';

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedError);
    return (error as MalformedError).reason;
  }
  throw new Error('expected a MalformedError, nothing was thrown');
}

describe('base64url (RFC 4648 §5, unpadded, canonical)', () => {
  test('encode agrees with Buffer and decode inverts it (1000 runs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = base64urlEncode(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        // The short encoder is right at any length, past its threshold too.
        expect(base64urlEncodeShort(bytes)).toBe(text);
        expect(base64urlDecode(text)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  test('a character beyond ASCII is bad_base64url, at its index, in any group', () => {
    expect(() => base64urlDecode('AAAAéA')).toThrow(/index 4/);
    expect(() => base64urlDecode('AAAAAé')).toThrow(/index 5/);
    expect(() => base64urlDecode(`${'A'.repeat(8188)}\u{1F600}AA`)).toThrow(/index 8188/);
    expect(reasonOf(() => base64urlDecode('AAAé'))).toBe('bad_base64url');
  });

  test('decode returns a plain Uint8Array of the exact length', () => {
    const decoded = base64urlDecode('AAECAwQ');
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect([...decoded]).toEqual([0, 1, 2, 3, 4]);
    expect(base64urlDecode('')).toEqual(new Uint8Array(0));
  });

  test.each([
    ['padding', 'AA=='],
    ['single padding', 'AAA='],
    ['"+" (standard alphabet)', 'a+8'],
    ['"/" (standard alphabet)', 'a/8'],
    ['space', 'AA A'],
    ['newline', 'AAAA\nAAA'],
    ['tab', 'AA\tA'],
    ['trailing space', 'AAA '],
    ['non-ASCII letter', 'AAé'],
    ['non-ASCII lookalike (fullwidth A)', 'AA\uFF21A'],
    ['NUL', 'AA\u0000A'],
    ['"."', 'AA.A'],
  ])('rejects %s as bad_base64url', (_name, text) => {
    expect(reasonOf(() => base64urlDecode(text))).toBe('bad_base64url');
  });

  test.each(['A', 'AAAAA', 'AAAAAAAAA'])(
    'rejects length %% 4 == 1 (%s) as bad_base64url',
    (text) => {
      expect(reasonOf(() => base64urlDecode(text))).toBe('bad_base64url');
    },
  );

  test('non-zero trailing bits are not_canonical: one text per byte string', () => {
    // 'AA' is the only spelling of [0x00]; 'AB'…'AP' carry bits that do not fit a byte.
    expect(base64urlDecode('AA')).toEqual(Uint8Array.of(0));
    for (const last of 'BCDEFGHIJKLMNOP') {
      expect(reasonOf(() => base64urlDecode(`A${last}`))).toBe('not_canonical');
    }
    // Two bytes: the last sextet's low two bits must be zero ('AAA' ok, 'AAB' not).
    expect(base64urlDecode('AAA')).toEqual(Uint8Array.of(0, 0));
    for (const last of 'BCD') {
      expect(reasonOf(() => base64urlDecode(`AA${last}`))).toBe('not_canonical');
    }
    // Buffer is lenient here, which is exactly what the strict decoder must not be.
    expect([...Buffer.from('AB', 'base64url')]).toEqual([0]);
  });

  test('property: a text that decodes re-encodes to itself (canonicality)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const texts = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 40 });
    fc.assert(
      fc.property(texts, (text) => {
        let decoded: Uint8Array;
        try {
          decoded = base64urlDecode(text);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedError);
          expect(['bad_base64url', 'not_canonical']).toContain((error as MalformedError).reason);
          return;
        }
        expect(base64urlEncode(decoded)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  test('the error names the field', () => {
    expect(() => base64urlDecode('A', 'JWT header')).toThrow(/JWT header/);
  });

  describe('isBase64urlOfLength', () => {
    test('true only for canonical base64url of exactly that many bytes', () => {
      const key = base64urlEncode(new Uint8Array(32).fill(7));
      expect(key).toHaveLength(43);
      expect(isBase64urlOfLength(key, 32)).toBe(true);
      expect(isBase64urlOfLength(base64urlEncode(new Uint8Array(16)), 16)).toBe(true);
      expect(isBase64urlOfLength('', 0)).toBe(true);
    });

    test.each([
      ['a different length', base64urlEncode(new Uint8Array(31)), 32],
      ['padded', `${base64urlEncode(new Uint8Array(32))}=`, 32],
      ['non-canonical trailing bits', `${base64urlEncode(new Uint8Array(32)).slice(0, 42)}B`, 32],
      ['a bad character', `${base64urlEncode(new Uint8Array(32)).slice(0, 42)}+`, 32],
      ['not a string', 42, 32],
      ['null', null, 32],
      ['bytes', new Uint8Array(32), 32],
    ])('false for %s', (_name, value, length) => {
      expect(isBase64urlOfLength(value, length)).toBe(false);
    });

    test('property: agrees with decoding', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(64), (bytes, length) => {
          expect(isBase64urlOfLength(base64urlEncode(bytes), length)).toBe(bytes.length === length);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('canonicalBase64urlLength', () => {
    /** What decoding says: the byte length, or -1 when it throws. */
    function decodedLength(text: string): number {
      try {
        return base64urlDecode(text).length;
      } catch {
        return -1;
      }
    }

    test('property: agrees with decoding on any text, near-alphabet and hostile alike', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
      const texts = fc.oneof(
        fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 90 }),
        fc.string({
          unit: fc.constantFrom(...alphabet, '=', '+', '/', ' ', 'é', '\0'),
          maxLength: 30,
        }),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => base64urlEncode(bytes)),
      );
      fc.assert(
        fc.property(texts, (text) => {
          expect(canonicalBase64urlLength(text)).toBe(decodedLength(text));
        }),
        { numRuns: 3000 },
      );
    });
  });

  test('property: short and long encodings agree with Buffer on every length up to 300', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 300 }), (bytes) => {
        expect(base64urlEncode(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      }),
      { numRuns: 500 },
    );
  });
});
