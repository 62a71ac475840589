import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedError } from '../errors.js';
import {
  base64urlDecode,
  base64urlEncode,
  base64urlEncodeLong,
  base64urlEncodeShort,
  canonicalBase64urlLength,
} from './base64url.js';
import { decodeNatively, encodeNatively } from './base64url-node.js';
import {
  decodeNatively as decodeOnTheWeb,
  encodeNatively as encodeOnTheWeb,
} from './base64url-web.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');

/** Long text near the alphabet: canonical, with a stray character, or with a changed end. */
const longTexts = fc.oneof(
  fc.uint8Array({ minLength: 40, maxLength: 700 }).map((bytes) => base64urlEncode(bytes)),
  fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 60, maxLength: 300 }),
  fc
    .tuple(
      fc.uint8Array({ minLength: 48, maxLength: 300 }).map((bytes) => base64urlEncode(bytes)),
      fc.nat(),
      fc.constantFrom('=', '+', '/', ' ', '\n', 'é', '\0', '.', '\u{1F600}', ...ALPHABET),
    )
    .map(([text, at, c]) => {
      const i = at % text.length;
      return text.slice(0, i) + c + text.slice(i + 1);
    }),
  fc.uint8Array({ minLength: 48, maxLength: 300 }).map((bytes) => `${base64urlEncode(bytes)}=`),
);

describe('native base64url on Node (#native-base64url)', () => {
  test('property: takes exactly the canonical text from 64 characters on, and decodes it as core does', () => {
    fc.assert(
      fc.property(longTexts, (text) => {
        const native = decodeNatively(text);
        const length = canonicalBase64urlLength(text);
        if (text.length < 64 || length < 0) {
          expect(native).toBeUndefined();
          return;
        }
        expect(native).toBeInstanceOf(Uint8Array);
        expect(native!.length).toBe(length);
        // Canonical: the bytes spell the text again, one text per byte string (core's own
        // encoder: on Node base64urlEncode is native too).
        expect(base64urlEncodeShort(native!)).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  test('what it leaves still gets core’s typed error, at the right index', () => {
    const text = `${'A'.repeat(100)}+${'A'.repeat(99)}`;
    expect(decodeNatively(text)).toBeUndefined();
    expect(() => base64urlDecode(text, 'CWT')).toThrowError(
      new MalformedError('bad_base64url', 'CWT: not base64url at index 100'),
    );
    const trailing = `${'A'.repeat(98)}B`; // 99 characters: the last must carry 2 zero bits
    expect(decodeNatively(trailing)).toBeUndefined();
    expect(() => base64urlDecode(trailing)).toThrowError(/non-zero trailing bits/);
  });

  test('the bytes own their memory: no view into a shared pool', () => {
    const bytes = decodeNatively(base64urlEncode(new Uint8Array(100).fill(7)))!;
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(100);
  });

  test("property: Node's encoder writes core's text, for any bytes and any view", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(8), (bytes, offset) => {
        // A view at an offset into a larger buffer, as a Buffer from a pool is.
        const larger = new Uint8Array(bytes.length + offset + 3);
        larger.set(bytes, offset);
        const view = larger.subarray(offset, offset + bytes.length);
        expect(encodeNatively(view)).toBe(base64urlEncodeShort(bytes));
        expect(base64urlEncode(view)).toBe(base64urlEncodeShort(bytes));
        // Core's long encoder, which browsers run: on Node base64urlEncode no longer does.
        expect(base64urlEncodeLong(view)).toBe(Buffer.from(bytes).toString('base64url'));
      }),
      { numRuns: 2000 },
    );
  });

  test('elsewhere there is no native encoder nor decoder: core does everything', () => {
    expect(decodeOnTheWeb(base64urlEncode(new Uint8Array(200)))).toBeUndefined();
    expect(encodeOnTheWeb(new Uint8Array(200))).toBeUndefined();
  });
});
