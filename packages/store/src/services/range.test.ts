import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { StoreError } from '../errors.js';
import { parseRange } from './attachments.js';

/** Range headers (RFC 9110 §14.1.2), one byte range at most, against a 1000-byte file. */

const SIZE = 1000;

function refused(header: string): string {
  try {
    parseRange(header, SIZE);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return (error as StoreError).code;
  }
  throw new Error(`${JSON.stringify(header)} was accepted`);
}

describe('parseRange', () => {
  test('single ranges, open ranges, suffixes and blanks around the parts', () => {
    expect(parseRange(undefined, SIZE)).toBeUndefined();
    expect(parseRange('bytes=0-99', SIZE)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', SIZE)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', SIZE)).toEqual({ start: 900, end: 999 });
    expect(parseRange(' BYTES = 5 - 9 ', SIZE)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=990-5000', SIZE)).toEqual({ start: 990, end: 999 });
  });

  test('everything else is 416, multiple ranges with their own message', () => {
    for (const header of [
      'bytes=',
      'bytes=-',
      'bytes=5',
      'items=0-1',
      'bytes=a-b',
      'bytes=9-5',
      'bytes=1000-',
      'bytes=-0',
      '=0-1',
    ]) {
      expect(refused(header), header).toBe('RANGE_NOT_SATISFIABLE');
    }
    expect(() => parseRange('bytes=0-1,5-9', SIZE)).toThrow('Only a single byte range');
  });

  test('a header of thousands of blanks is refused like any other (no backtracking blow-up)', () => {
    expect(refused(`bytes=${' '.repeat(16_000)}x`)).toBe('RANGE_NOT_SATISFIABLE');
    expect(parseRange(`bytes=${' '.repeat(8_000)}1-2${' '.repeat(8_000)}`, SIZE)).toEqual({
      start: 1,
      end: 2,
    });
  });

  test('any first-last pair within the file gives exactly that range', () => {
    fc.assert(
      fc.property(fc.nat(SIZE - 1), fc.nat(SIZE - 1), (a, b) => {
        const [first, last] = a <= b ? [a, b] : [b, a];
        expect(parseRange(`bytes=${first}-${last}`, SIZE)).toEqual({ start: first, end: last });
      }),
    );
  });
});
