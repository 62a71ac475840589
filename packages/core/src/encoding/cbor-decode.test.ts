import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as cborxDecode, Encoder, Tag } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  array,
  bytes,
  concat,
  fromHex,
  head,
  int,
  map,
  tag,
  text,
  toHex,
} from '../../../../test/support/cbor.js';
import { generateTestKey, licenseClaims, signLicense } from '../../../../test/support/tokens.js';
import { vectorsDir } from '../../../../test/support/vectors.js';
import { int as cborInteger } from '../claims/cwt-values.js';
import { decodeDocument } from '../codec/read.js';
import { MalformedError, type MalformedReason } from '../errors.js';
import { CborTag, type CborValue, decodeStrictCbor } from './cbor-decode.js';
import { type CborEncodable, cborTag, encodeCbor } from './cbor-encode.js';

function reasonOf(run: () => unknown): MalformedReason {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedError);
    return (error as MalformedError).reason;
  }
  throw new Error('expected a MalformedError, nothing was thrown');
}

const strict = (hexText: string | Uint8Array) =>
  decodeStrictCbor(typeof hexText === 'string' ? fromHex(hexText) : hexText);

// ───────────────────────── RFC 8949 Appendix A ─────────────────────────

interface AppendixExample {
  hex: string;
  roundtrip: boolean;
  decoded?: unknown;
  diagnostic?: string;
}

/**
 * The vector file as data, with integers beyond 2^53 kept exact: JSON.parse would round
 * 18446744073709551615 to 18446744073709552000, so such literals become {"$bigint": "…"}.
 */
function readAppendixA(): AppendixExample[] {
  const raw = readFileSync(join(vectorsDir, 'cbor-test-vectors/appendix_a.json'), 'utf8');
  const exact = raw.replace(/"decoded":\s*(-?\d{16,})(?=\s*[,}])/g, '"decoded": {"$bigint": "$1"}');
  return JSON.parse(exact, (_key, value) =>
    value !== null && typeof value === 'object' && typeof value.$bigint === 'string'
      ? BigInt(value.$bigint)
      : value,
  ) as AppendixExample[];
}

const appendixA = readAppendixA();

/** Normalises a decoded value so cbor-x output compares with the vector's JSON value. */
function normaliseCborx(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(normaliseCborx);
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), normaliseCborx(v)]));
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseCborx(v)]));
  }
  return value;
}

/** Strict-decoder output → the vector's JSON shape (text-keyed maps become objects). */
function normaliseStrict(value: CborValue): unknown {
  if (Array.isArray(value)) return value.map(normaliseStrict);
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [k, normaliseStrict(v)] as const);
    return entries.every(([k]) => typeof k === 'string')
      ? Object.fromEntries(entries)
      : new Map(entries);
  }
  return value;
}

/** Examples of the strict profile that have no JSON `decoded` value, by hex. */
const PROFILE_DIAGNOSTIC: Record<string, CborValue> = {
  '40': new Uint8Array(0),
  '4401020304': Uint8Array.of(1, 2, 3, 4),
  a201020304: new Map([
    [1, 2],
    [3, 4],
  ]),
  c074323031332d30332d32315432303a30343a30305a: new CborTag(0, '2013-03-21T20:04:00Z'),
  c11a514b67b0: new CborTag(1, 1363896240),
  d74401020304: new CborTag(23, Uint8Array.of(1, 2, 3, 4)),
  d818456449455446: new CborTag(24, fromHex('6449455446')),
  d82076687474703a2f2f7777772e6578616d706c652e636f6d: new CborTag(32, 'http://www.example.com'),
};

/**
 * Bignums (RFC 8949 §3.4.3, tags 2 and 3) are structurally in the profile: they decode to a
 * CborTag holding the magnitude bytes, never to a rounded number.
 */
const BIGNUMS: Record<string, bigint> = {
  c249010000000000000000: 18446744073709551616n,
  c349010000000000000000: -18446744073709551617n,
};

/** Examples outside the profile, by category, with the reason the strict decoder gives. */
const OUTSIDE: Record<string, { reason: MalformedReason; hexes: string[] }> = {
  float: {
    reason: 'bad_structure',
    hexes: [
      'f90000',
      'f98000',
      'f93c00',
      'fb3ff199999999999a',
      'f93e00',
      'f97bff',
      'fa47c35000',
      'fa7f7fffff',
      'fb7e37e43c8800759c',
      'f90001',
      'f90400',
      'f9c400',
      'fbc010666666666666',
      'f97c00',
      'f97e00',
      'f9fc00',
      'fa7f800000',
      'fa7fc00000',
      'faff800000',
      'fb7ff0000000000000',
      'fb7ff8000000000000',
      'fbfff0000000000000',
      'c1fb41d452d9ec200000',
    ],
  },
  undefined: { reason: 'bad_structure', hexes: ['f7'] },
  simple: { reason: 'bad_structure', hexes: ['f0', 'f818', 'f8ff'] },
  'integer beyond ±(2^53 − 1)': {
    reason: 'unsafe_integer',
    hexes: ['1bffffffffffffffff', '3bffffffffffffffff'],
  },
  'indefinite length': {
    reason: 'not_canonical',
    hexes: [
      '5f42010243030405ff',
      '7f657374726561646d696e67ff',
      '9fff',
      '9f018202039f0405ffff',
      '9f01820203820405ff',
      '83018202039f0405ff',
      '83019f0203ff820405',
      '9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff',
      'bf61610161629f0203ffff',
      '826161bf61626163ff',
      'bf6346756ef563416d7421ff',
    ],
  },
};

const outsideHexes = new Set(Object.values(OUTSIDE).flatMap(({ hexes }) => hexes));

describe('RFC 8949 Appendix A (cbor/test-vectors)', () => {
  test('the vector file has its 82 examples and every one is classified exactly once', () => {
    expect(appendixA).toHaveLength(82);
    const classified = [
      ...outsideHexes,
      ...Object.keys(PROFILE_DIAGNOSTIC),
      ...Object.keys(BIGNUMS),
      ...appendixA
        .filter((e) => 'decoded' in e && !outsideHexes.has(e.hex) && !(e.hex in BIGNUMS))
        .map((e) => e.hex),
    ];
    expect(new Set(classified).size).toBe(classified.length);
    expect(new Set(classified)).toEqual(new Set(appendixA.map((e) => e.hex)));
  });

  const withDecoded = appendixA.filter((example) => 'decoded' in example);

  // cbor-x is the general CBOR layer of the project (the issuing side and the tests).
  // Known limitation, asserted so that it is noticed when it goes away: cbor-x 1.6.9 throws
  // on indefinite-length text and byte strings (decode.js: "Indefinite length not supported
  // for byte or text strings"), so the one such example with a `decoded` value
  // (7f657374726561646d696e67ff, "streaming") is not decoded. The strict verifier decoder
  // refuses every indefinite length by design, so no licensekit token is affected.
  const CBORX_UNSUPPORTED = new Set(['7f657374726561646d696e67ff']);

  test.each(withDecoded.map((e) => [e.hex, e] as const))(
    'cbor-x decodes %s to the given value',
    (hexText, example) => {
      if (CBORX_UNSUPPORTED.has(hexText)) {
        expect(() => cborxDecode(Buffer.from(hexText, 'hex'))).toThrow(
          'Indefinite length not supported for byte or text strings',
        );
        return;
      }
      const decoded = normaliseCborx(cborxDecode(Buffer.from(hexText, 'hex')));
      expect(decoded).toStrictEqual(example.decoded);
    },
  );

  test('exactly 59 examples have a decoded value; cbor-x decodes all but one', () => {
    expect(withDecoded).toHaveLength(59);
    expect(withDecoded.filter((e) => !CBORX_UNSUPPORTED.has(e.hex))).toHaveLength(58);
  });

  const inProfile = withDecoded.filter((e) => !outsideHexes.has(e.hex) && !(e.hex in BIGNUMS));

  test.each(inProfile.map((e) => [e.hex, e] as const))(
    'the strict decoder decodes %s (in profile) to the given value',
    (hexText, example) => {
      expect(normaliseStrict(strict(hexText))).toStrictEqual(example.decoded);
    },
  );

  test.each(Object.entries(PROFILE_DIAGNOSTIC))(
    'the strict decoder decodes %s (in profile, diagnostic only)',
    (hexText, expected) => {
      expect(strict(hexText)).toStrictEqual(expected);
    },
  );

  test.each(Object.entries(BIGNUMS))(
    'the strict decoder keeps bignum %s exact, as a tag over its magnitude',
    (hexText, expected) => {
      const decoded = strict(hexText);
      expect(decoded).toBeInstanceOf(CborTag);
      const { tag: tagNumber, value } = decoded as CborTag;
      expect(value).toBeInstanceOf(Uint8Array);
      const magnitude = BigInt(`0x${toHex(value as Uint8Array)}`);
      expect(tagNumber === 2 ? magnitude : -1n - magnitude).toBe(expected);
    },
  );

  for (const [category, { reason, hexes }] of Object.entries(OUTSIDE)) {
    test.each(hexes)(`the strict decoder rejects %s (${category}) as ${reason}`, (hexText) => {
      expect(reasonOf(() => strict(hexText))).toBe(reason);
    });
  }
});

// ───────────────────────── hostile inputs ─────────────────────────

describe('strict CBOR: declared lengths are checked against the data before allocating', () => {
  const three = Uint8Array.of(1, 2, 3);
  test.each([
    ['byte string, 2^32 (8-byte head)', head(2, 2n ** 32n, 8)],
    ['byte string, 2^32 − 1 (4-byte head)', head(2, 0xffffffff, 4)],
    ['byte string, 2^53 − 1', head(2, 2n ** 53n - 1n, 8)],
    ['text string, 2^32', head(3, 2n ** 32n, 8)],
    ['array, 2^32 elements', head(4, 2n ** 32n, 8)],
    ['array, 2^32 − 1 elements', head(4, 0xffffffff, 4)],
    ['map, 2^32 pairs', head(5, 2n ** 32n, 8)],
    ['map, 2 pairs with 3 bytes left', head(5, 2)],
    ['byte string, 4 with 3 bytes left', head(2, 4)],
  ])('%s followed by 3 bytes → too_long', (_name, initial) => {
    const started = performance.now();
    expect(reasonOf(() => decodeStrictCbor(concat(initial, three)))).toBe('too_long');
    expect(performance.now() - started).toBeLessThan(50);
  });

  test('a length or count of 2^53 or more is unsafe_integer', () => {
    expect(reasonOf(() => decodeStrictCbor(concat(head(2, 2n ** 53n, 8), three)))).toBe(
      'unsafe_integer',
    );
    expect(reasonOf(() => decodeStrictCbor(concat(head(4, 2n ** 64n - 1n, 8), three)))).toBe(
      'unsafe_integer',
    );
  });

  test('nested declared lengths are checked against what is left, not the whole input', () => {
    // [h'…' (declares 10, 3 present)] inside an array whose own header is fine.
    expect(reasonOf(() => decodeStrictCbor(concat(head(4, 1), head(2, 10), three)))).toBe(
      'too_long',
    );
  });
});

describe('strict CBOR: nesting', () => {
  test('16 levels pass, 17 are too_deep (default maxDepth 16)', () => {
    const nested = (levels: number) =>
      concat(new Uint8Array(levels).fill(0x81), Uint8Array.of(0x00));
    expect(() => decodeStrictCbor(nested(16))).not.toThrow();
    expect(reasonOf(() => decodeStrictCbor(nested(17)))).toBe('too_deep');
    expect(reasonOf(() => decodeStrictCbor(nested(5), { maxDepth: 4 }))).toBe('too_deep');
  });

  test.each([
    ['arrays', 0x81, new Uint8Array(0)],
    ['maps', 0xa1, Uint8Array.of(0x00)], // {0: {0: …}}
    ['tags', 0xc1, new Uint8Array(0)],
  ])('10 000 nested %s fail fast with too_deep', (_name, opener, perLevel) => {
    const levels = 10_000;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < levels; i++) parts.push(Uint8Array.of(opener), perLevel);
    const input = concat(...parts, Uint8Array.of(0x00));
    const started = performance.now();
    expect(reasonOf(() => decodeStrictCbor(input))).toBe('too_deep');
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('strict CBOR: map keys', () => {
  test.each([
    [
      'integer keys',
      map([
        [int(1), int(0)],
        [int(1), int(1)],
      ]),
    ],
    [
      'negative integer keys',
      map([
        [int(-1), int(0)],
        [int(-1), int(1)],
      ]),
    ],
    [
      'text keys',
      map([
        [text('a'), int(0)],
        [text('a'), int(1)],
      ]),
    ],
    [
      'text keys with equal values',
      map([
        [text('iss'), text('x')],
        [text('iss'), text('x')],
      ]),
    ],
    [
      'keys far apart',
      map([
        [int(1), int(0)],
        [int(2), int(0)],
        [text('x'), int(0)],
        [int(1), int(0)],
      ]),
    ],
    [
      'a nested map',
      array([
        map([
          [int(4), int(0)],
          [int(4), int(0)],
        ]),
      ]),
    ],
    [
      'the CWT private claim repeated',
      map([
        [int(-65537), map([])],
        [int(-65537), map([])],
      ]),
    ],
  ])('duplicate %s → duplicate_key', (_name, input) => {
    expect(reasonOf(() => decodeStrictCbor(input))).toBe('duplicate_key');
  });

  test('1 and "1" are distinct keys; so are -1 and "-1"', () => {
    const decoded = decodeStrictCbor(
      map([
        [int(1), text('int')],
        [text('1'), text('text')],
        [int(-1), text('negative')],
        [text('-1'), text('text negative')],
      ]),
    );
    expect(decoded).toStrictEqual(
      new Map<string | number, CborValue>([
        [1, 'int'],
        ['1', 'text'],
        [-1, 'negative'],
        ['-1', 'text negative'],
      ]),
    );
  });

  test('NFC and NFD spellings are distinct keys (no normalisation)', () => {
    const decoded = decodeStrictCbor(
      map([
        [text('é'), int(1)],
        [text('e\u0301'), int(2)],
      ]),
    );
    expect((decoded as Map<string, number>).size).toBe(2);
  });

  test.each([
    ['a byte string', bytes(Uint8Array.of(1))],
    ['an array', array([])],
    ['a map', map([])],
    ['true', Uint8Array.of(0xf5)],
    ['null', Uint8Array.of(0xf6)],
    ['a tag', tag(1, int(0))],
  ])('a key that is %s → bad_structure', (_name, key) => {
    expect(reasonOf(() => decodeStrictCbor(map([[key, int(0)]])))).toBe('bad_structure');
  });
});

describe('strict CBOR: preferred serialization', () => {
  test.each([
    ['0 in 1 byte', '1800'],
    ['23 in 1 byte', '1817'],
    ['255 in 2 bytes', '1900ff'],
    ['65535 in 4 bytes', '1a0000ffff'],
    ['2^32 − 1 in 8 bytes', '1b00000000ffffffff'],
    ['0 in 8 bytes', '1b0000000000000000'],
    ['−1 in 1 byte', '3800'],
    ['−256 in 2 bytes', '3900ff'],
    ['an empty byte string with a 1-byte length', '5800'],
    ['"a" with a 1-byte length', '780161'],
    ['"a" with a 2-byte length', '79000161'],
    ['[0] with a 1-byte count', '980100'],
    ['{0: 0} with a 1-byte count', 'b8010000'],
    ['tag 1 in 1 byte', 'd80100'],
    ['tag 18 in 2 bytes', 'd9001280'],
    ['a non-shortest integer inside a map', 'a1011900ff'],
    ['a non-shortest key', 'a118010000'],
  ])('%s → not_canonical', (_name, hexText) => {
    expect(reasonOf(() => strict(hexText))).toBe('not_canonical');
  });

  test('the shortest forms at each width boundary are accepted', () => {
    expect(strict('17')).toBe(23);
    expect(strict('1818')).toBe(24);
    expect(strict('18ff')).toBe(255);
    expect(strict('190100')).toBe(256);
    expect(strict('19ffff')).toBe(65535);
    expect(strict('1a00010000')).toBe(65536);
    expect(strict('1affffffff')).toBe(0xffffffff);
    expect(strict('1b0000000100000000')).toBe(2 ** 32);
    expect(strict('1b001fffffffffffff')).toBe(Number.MAX_SAFE_INTEGER);
    expect(strict('3b001ffffffffffffe')).toBe(-Number.MAX_SAFE_INTEGER);
  });

  test('±2^53 are unsafe_integer', () => {
    expect(reasonOf(() => strict('1b0020000000000000'))).toBe('unsafe_integer');
    expect(reasonOf(() => strict('3b001fffffffffffff'))).toBe('unsafe_integer');
  });
});

describe('strict CBOR: other malformations', () => {
  test.each([
    ['two items', '0000', 'trailing_bytes'],
    ['a map then a byte', 'a0ff', 'trailing_bytes'],
    ['empty input', '', 'bad_cbor'],
    ['a truncated 2-byte integer', '19ff', 'bad_cbor'],
    ['an array whose count exceeds the bytes left', '8201', 'too_long'],
    ['a truncated item inside an array', '821901', 'bad_cbor'],
    ['reserved additional information 28', '1c', 'bad_cbor'],
    ['reserved additional information 30', '5e', 'bad_cbor'],
    ['a lone break', 'ff', 'bad_cbor'],
    ['simple value 28 (reserved)', 'fc', 'bad_structure'],
    ['invalid UTF-8 (c3 28)', '62c328', 'bad_encoding'],
    ['overlong UTF-8 (c0 80)', '62c080', 'bad_encoding'],
    ['UTF-8 of a surrogate (ed a0 80)', '63eda080', 'bad_encoding'],
    ['truncated UTF-8', '61e2', 'bad_encoding'],
  ] as const)('%s → %s', (_name, hexText, reason) => {
    expect(reasonOf(() => strict(hexText))).toBe(reason);
  });

  test('a byte order mark in text is kept, not stripped', () => {
    expect(strict('63efbbbf')).toBe('\uFEFF');
  });

  test('every truncation of a valid CWT is a MalformedError, never another exception', () => {
    const key = generateTestKey();
    const token = signLicense(key, licenseClaims(), { format: 'cwt' });
    const full = Buffer.from(token, 'base64url');
    expect(() => decodeDocument(new Uint8Array(full), 'license')).not.toThrow();
    for (let length = 0; length < full.length; length++) {
      const prefix = new Uint8Array(full.subarray(0, length));
      expect(() => decodeStrictCbor(prefix)).toThrow(MalformedError);
      expect(() => decodeDocument(prefix, 'license')).toThrow(MalformedError);
    }
    // And a byte too many.
    const longer = concat(new Uint8Array(full), Uint8Array.of(0));
    expect(reasonOf(() => decodeStrictCbor(longer))).toBe('trailing_bytes');
    expect(reasonOf(() => decodeDocument(longer, 'license'))).toBe('trailing_bytes');
  });
});

// ───────────────────────── encoder ⇄ strict decoder ─────────────────────────

interface Sample {
  /** What is handed to the project's cbor-x encoder. */
  encodable: CborEncodable;
  /** What the strict decoder must return. */
  expected: CborValue;
}

const safeInteger = fc.oneof(
  fc.integer({ min: -24, max: 24 }),
  fc.integer(),
  fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(
    0xff,
    0x100,
    0xffff,
    0x10000,
    0xffffffff,
    2 ** 32,
    -(2 ** 32),
    -(2 ** 32) - 1,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ),
);

const leaf: fc.Arbitrary<Sample> = fc.oneof(
  safeInteger.map((n) => ({ encodable: cborInteger(n), expected: n })),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => ({ encodable: s, expected: s })),
  fc.uint8Array({ maxLength: 40 }).map((b) => ({ encodable: b, expected: b })),
  fc.constantFrom(true, false, null).map((v) => ({ encodable: v, expected: v })),
);

const { sample } = fc.letrec<{ sample: Sample }>((tie) => ({
  sample: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'cbor' },
    leaf,
    fc.array(tie('sample'), { maxLength: 5 }).map((items) => ({
      encodable: items.map((i) => i.encodable),
      expected: items.map((i) => i.expected),
    })),
    fc
      .uniqueArray(
        fc.tuple(
          // Keys stay within the 32-bit argument range, which cbor-x writes as integers (the
          // CborEncodable map type takes number keys, not the BigInts of larger ones).
          fc.oneof(
            fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }),
            fc.string({ unit: 'binary', maxLength: 10 }),
          ),
          tie('sample'),
        ),
        { maxLength: 5, selector: ([k]) => k },
      )
      .map((entries) => ({
        encodable: new Map(entries.map(([k, v]) => [k, v.encodable])),
        expected: new Map(entries.map(([k, v]) => [k, v.expected])),
      })),
    fc.tuple(fc.integer({ min: 6, max: 0xffff }), tie('sample')).map(([n, inner]) => ({
      encodable: cborTag(n, inner.encodable),
      expected: new CborTag(n, inner.expected),
    })),
  ),
}));

describe('strict CBOR: byte strings and the input they come from', () => {
  // h'010203' inside a one-element array: 81 43 01 02 03.
  const encoded = [0x81, 0x43, 1, 2, 3];

  test.each([
    ['a Uint8Array', () => Uint8Array.from(encoded)],
    // A Node Buffer's own slice() is a view: the copy must not be made with it.
    ['a Node Buffer', () => Buffer.from(encoded)],
  ])('from %s they are copies by default, views when shared', (_kind, input) => {
    const bytes = input();
    const [copied] = decodeStrictCbor(bytes) as [Uint8Array];
    const [shared] = decodeStrictCbor(bytes, { share: true }) as [Uint8Array];
    bytes.fill(0);
    expect([...copied]).toEqual([1, 2, 3]);
    expect([...shared]).toEqual([0, 0, 0]);
  });
});

describe('encodeCbor (issuing side) → decodeStrictCbor', () => {
  test('property: every value of the profile round-trips (1000 runs)', () => {
    fc.assert(
      fc.property(sample, ({ encodable, expected }) => {
        const encoded = encodeCbor(encodable);
        expect(decodeStrictCbor(encoded)).toStrictEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  test('property: byte for byte what cbor-x writes in the same profile (1000 runs)', () => {
    const cborx = new Encoder({
      useRecords: false,
      mapsAsObjects: false,
      variableMapSize: true,
      tagUint8Array: false,
      pack: false,
    });
    const toCborx = (value: CborEncodable): unknown => {
      if (value instanceof CborTag)
        return new Tag(toCborx(value.value as CborEncodable), value.tag);
      if (Array.isArray(value)) return value.map(toCborx);
      if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, toCborx(v)]));
      return value;
    };
    fc.assert(
      fc.property(sample, ({ encodable }) => {
        expect(toHex(encodeCbor(encodable))).toBe(
          toHex(new Uint8Array(cborx.encode(toCborx(encodable)))),
        );
      }),
      { numRuns: 1000 },
    );
  });

  test('integers of 2^32 and above are 8-byte integers, as numbers and as BigInt (cwt-values `int`)', () => {
    expect(toHex(encodeCbor(cborInteger(2 ** 32)))).toBe('1b0000000100000000');
    expect(toHex(encodeCbor(2 ** 32))).toBe('1b0000000100000000');
    expect(toHex(encodeCbor(-(2 ** 40)))).toBe('3b000000ffffffffff');
    expect(decodeStrictCbor(encodeCbor(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(toHex(encodeCbor(2n ** 64n - 1n))).toBe('1bffffffffffffffff');
    expect(() => encodeCbor(2n ** 64n)).toThrow(RangeError);
    // Anything else is a float64, which the strict profile refuses.
    expect(reasonOf(() => decodeStrictCbor(encodeCbor(1.5)))).toBe('bad_structure');
  });
});

test('encodeCbor refuses text with an unpaired surrogate (UTF-8 has no form for it)', () => {
  expect(() => encodeCbor('lic_\ud800')).toThrow(TypeError);
  expect(toHex(encodeCbor('é\u{1F600}'))).toBe('66c3a9f09f9880');
});
