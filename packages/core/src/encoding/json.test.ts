import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MalformedError, type MalformedReason } from '../errors.js';
import { type JsonValue, parseStrictJson } from './json.js';

function reasonOf(run: () => unknown): MalformedReason {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedError);
    return (error as MalformedError).reason;
  }
  throw new Error('expected a MalformedError, nothing was thrown');
}

const parse = (text: string, maxDepth?: number) =>
  parseStrictJson(text, maxDepth === undefined ? {} : { maxDepth });

/**
 * JSON values the strict profile accepts: no integer-looking number outside the safe range
 * (a double such as 2^60 prints as digits and is rightly refused as an unsafe integer).
 * JSON.stringify escapes lone surrogates, which the profile refuses, so strings are
 * well-formed (fast-check's 'binary' unit never produces half pairs).
 */
function profileSafe(value: unknown): boolean {
  if (typeof value === 'number') {
    return !Number.isInteger(value) || Number.isSafeInteger(value) || /[.eE]/.test(String(value));
  }
  if (Array.isArray(value)) return value.every(profileSafe);
  if (value !== null && typeof value === 'object') return Object.values(value).every(profileSafe);
  return true;
}

describe('parseStrictJson: agrees with JSON.parse on the profile', () => {
  test.each(['grapheme', 'binary'] as const)(
    'property: parseStrictJson(JSON.stringify(v)) deep-equals JSON.parse (%s strings)',
    (stringUnit) => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 6, stringUnit }).filter(profileSafe), (value) => {
          const text = JSON.stringify(value);
          expect(parseStrictJson(text, { maxDepth: 16 })).toStrictEqual(JSON.parse(text));
          // Pretty-printed (whitespace between tokens) reads the same.
          const pretty = JSON.stringify(value, null, '\t');
          expect(parseStrictJson(pretty, { maxDepth: 16 })).toStrictEqual(JSON.parse(pretty));
        }),
        { numRuns: 1000 },
      );
    },
  );

  test('property: every escaped form of a string reads back to the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        const escaped = [...text]
          .map((ch) =>
            [...ch].length === 1 && ch.length === 2
              ? `\\u${ch.charCodeAt(0).toString(16)}\\u${ch.charCodeAt(1).toString(16).toUpperCase()}`
              : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
          )
          .join('');
        expect(parse(`"${escaped}"`)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  test('integers at the edge of the safe range', () => {
    expect(parse('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parse('-9007199254740991')).toBe(-Number.MAX_SAFE_INTEGER);
    expect(parse('[0,-0,1e2,1.5,-2.5E-3]')).toStrictEqual([0, -0, 100, 1.5, -0.0025]);
  });
});

describe('parseStrictJson: duplicate members', () => {
  test.each([
    ['at the top level', '{"a":1,"a":2}'],
    ['with equal values', '{"a":1,"a":1}'],
    ['nested', '{"x":{"b":1,"c":2,"b":3}}'],
    ['inside an array', '[{"k":1},{"k":2,"k":3}]'],
    ['via an escape ("a" vs "\\u0061")', '{"a":1,"\\u0061":2}'],
    ['via an escape of a non-ASCII name', '{"é":1,"\\u00e9":2}'],
    ['via a surrogate-pair escape', '{"😀":1,"\\ud83d\\ude00":2}'],
    ['via "\\/"', '{"a/b":1,"a\\/b":2}'],
    ['"__proto__" twice', '{"__proto__":1,"__proto__":2}'],
  ])('%s → duplicate_key', (_name, text) => {
    expect(reasonOf(() => parse(text))).toBe('duplicate_key');
  });

  test('JSON.parse keeps the last duplicate; the strict parser refuses (RFC 7515 §5.2)', () => {
    expect(JSON.parse('{"aud":"a","aud":"b"}')).toEqual({ aud: 'b' });
    expect(reasonOf(() => parse('{"aud":"a","aud":"b"}'))).toBe('duplicate_key');
  });

  test('names differing by case or normalisation are distinct', () => {
    expect(parse('{"a":1,"A":2,"é":3,"e\\u0301":4}')).toEqual({ a: 1, A: 2, é: 3, 'e\u0301': 4 });
  });
});

describe('parseStrictJson: no prototype pollution', () => {
  test('"__proto__" is an own property and the prototype is untouched', () => {
    const value = parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  test('"constructor" and "prototype" members are plain data', () => {
    const value = parse('{"constructor":{"prototype":{"x":1}}}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, 'constructor')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('parseStrictJson: nesting', () => {
  test('depth is counted from 1 at the top level; deeper than maxDepth → too_deep', () => {
    expect(parse('[[[]]]', 3)).toEqual([[[]]]);
    expect(reasonOf(() => parse('[[[[]]]]', 3))).toBe('too_deep');
    expect(reasonOf(() => parse('{"a":{"b":{"c":{}}}}', 3))).toBe('too_deep');
    // Scalars do not count as a level.
    expect(parse('{"a":{"b":{"c":1}}}', 3)).toEqual({ a: { b: { c: 1 } } });
    // Default maxDepth is 16.
    expect(parse(`${'['.repeat(16)}${']'.repeat(16)}`)).toBeDefined();
    expect(reasonOf(() => parse(`${'['.repeat(17)}${']'.repeat(17)}`))).toBe('too_deep');
  });

  test('100 000 nested "[" fail fast with too_deep, not a stack overflow', () => {
    const started = performance.now();
    expect(reasonOf(() => parse('['.repeat(100_000)))).toBe('too_deep');
    expect(reasonOf(() => parse('{"a":'.repeat(100_000)))).toBe('too_deep');
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('parseStrictJson: numbers', () => {
  test.each([
    ['2^53', '9007199254740992'],
    ['−2^53', '-9007199254740992'],
    ['2^53 + 1 (would round to 2^53)', '9007199254740993'],
    ['a 30-digit integer', '123456789012345678901234567890'],
    ['inside a member', '{"exp":18446744073709551615}'],
  ])('%s → unsafe_integer', (_name, text) => {
    expect(reasonOf(() => parse(text))).toBe('unsafe_integer');
  });

  test.each([
    ['"+1"', '+1'],
    ['".5"', '.5'],
    ['"1."', '1.'],
    ['"-"', '-'],
    ['"1e"', '1e'],
    ['"1e+"', '1e+'],
    ['"0x10"', '[0x10]'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    ['leading zero in an array', '[01]'],
    ['leading zero in a member', '{"exp":0123}'],
    ['negative leading zero', '[-01]'],
    ['a number too large for a double', '1e400'],
  ])('%s → bad_json', (_name, text) => {
    expect(reasonOf(() => parse(text))).toBe('bad_json');
  });

  test('a leading zero at the top level is reported as data after the value "0"', () => {
    // "01" is the number 0 followed by "1": the parser's view is trailing data, and either
    // way the text is refused.
    expect(reasonOf(() => parse('01'))).toBe('trailing_bytes');
  });
});

describe('parseStrictJson: strings and encoding', () => {
  test.each([
    ['a raw lone high surrogate', '"a\uD800b"'],
    ['a raw lone low surrogate', '"a\uDC00b"'],
    ['a raw high surrogate at the end', '"\uD83D"'],
    ['reversed raw pair', '"\uDE00\uD83D"'],
    ['an escaped lone high surrogate', '"\\ud800"'],
    ['an escaped lone low surrogate', '"\\udc00"'],
    ['an escaped high surrogate then a letter', '"\\ud83dx"'],
    ['an escaped high surrogate then an escaped non-surrogate', '"\\ud83d\\u0041"'],
    ['escaped high + raw low', '"\\ud83d\uDE00"'],
    ['a lone surrogate in a member name', '{"\\udfff":1}'],
  ])('%s → bad_encoding', (_name, text) => {
    expect(reasonOf(() => parse(text))).toBe('bad_encoding');
  });

  test('paired surrogates, raw or escaped, are fine', () => {
    expect(parse('"\uD83D\uDE00"')).toBe('😀');
    expect(parse('"\\uD83D\\uDE00"')).toBe('😀');
  });

  test.each([
    ['a raw newline in a string', '"a\nb"'],
    ['a raw tab in a string', '"a\tb"'],
    ['a raw NUL in a string', '"a\u0000b"'],
    ['a raw U+001F', '"\u001F"'],
    ['an unknown escape \\x', '"\\x41"'],
    ['an unknown escape \\a', '"\\a"'],
    ['an upper-case \\U', '"\\U0041"'],
    ['a short \\u escape', '"\\u12"'],
    ['a non-hex \\u escape', '"\\u00G0"'],
    ['a single-quoted string', "'a'"],
    ['an unterminated string', '"abc'],
    ['a backslash at the end', '"abc\\'],
    ['an unquoted member name', '{a:1}'],
    ['a trailing comma in an object', '{"a":1,}'],
    ['a trailing comma in an array', '[1,]'],
    ['a missing comma', '[1 2]'],
    ['a missing colon', '{"a" 1}'],
    ['a line comment inside', '[1 // c\n]'],
    ['a block comment inside', '{"a":/* c */1}'],
    ['a leading comment', '/* c */ {}'],
    ['a byte order mark', '\uFEFF{}'],
    ['a BOM-only text', '\uFEFF'],
    ['an empty text', ''],
    ['only whitespace', ' \n\t '],
    ['non-JSON whitespace (NBSP)', '\u00A0{}'],
    ['a vertical tab', '\u000B{}'],
    ['True', 'True'],
    ['nul', 'nul'],
    ['undefined', 'undefined'],
  ])('%s → bad_json', (_name, text) => {
    expect(reasonOf(() => parse(text))).toBe('bad_json');
  });

  test.each([
    ['garbage after an object', '{"a":1}x'],
    ['a second value', '{} {}'],
    ['a second number', '1 2'],
    ['a trailing comment', '{"a":1} // c'],
    ['a trailing NUL', '{}\u0000'],
    ['a trailing BOM', '{}\uFEFF'],
    ['a closing bracket too many', '[]]'],
  ])('%s → trailing_bytes', (_name, text) => {
    expect(reasonOf(() => parse(text))).toBe('trailing_bytes');
  });

  test('JSON whitespace around the value is allowed', () => {
    expect(parse(' \t\r\n{"a" : [ 1 , 2 ] }\n')).toEqual({ a: [1, 2] });
  });

  test('the error message names the input', () => {
    expect(() => parseStrictJson('{', { what: 'JWT header' })).toThrow(/^JWT header/);
  });
});
