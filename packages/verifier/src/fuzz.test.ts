/**
 * Mutation fuzzing of verify() from valid tokens of both formats. Whatever the mutation,
 * verify resolves (never throws, never hangs), returns a status of STATUSES, and says
 * `valid` only when the signed content is unchanged: the decoded signing input and
 * signature are byte-equal to those of one of the original tokens. Base64url is canonical
 * here, so a changed token text never stands for the same bytes: a JWT that verifies is the
 * original text, and a CWT text that differs from the original stands for other bytes
 * (which can still verify when only unsigned parts changed: the unprotected header, the
 * optional CWT tag 61).
 */
import type { CborValue, TokenFormat } from '@licensekit/core';
import {
  base64urlDecode,
  base64urlEncode,
  CborTag,
  decodeCoseSign1,
  decodeDocument,
  decodeStrictCbor,
  licenseClaimsToJson,
  licenseToCwt,
} from '@licensekit/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  array as cborArray,
  bytes as cborBytes,
  concat,
  head,
  toHex,
} from '../../../test/support/cbor.js';
import {
  certificateClaims,
  coseHeader,
  DAY,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  rawCoseBytes,
  rawJwt,
  signCertificate,
  signLicense,
  T0,
  type TestKey,
  tokenBytes,
} from '../../../test/support/tokens.js';
import { createVerifier, STATUSES, type VerifyResult } from './index.js';

const NOW = T0 + DAY;
const VERIFY_TIMEOUT_MS = 2_000;

const issuer = generateTestKey(); // trusted directly
const root = generateTestKey(); // trusted as root
const certified = generateTestKey(); // certified by the root
const wrong = generateTestKey(); // trusted by nobody

const verifier = createVerifier({
  trust: { roots: [root.jwk], issuers: [issuer.jwk] },
  product: PRODUCT,
  clock: () => NOW * 1000,
  // No marks: `valid` must depend on the token alone, not on what was seen before.
  state: false,
});

interface Original {
  format: TokenFormat;
  text: string;
  /** JSON payload (JWT) or CWT claims map source, for claim swapping. */
  claims: ReturnType<typeof licenseClaims>;
  key: TestKey;
  certificate?: string;
}

function makeOriginals(format: TokenFormat): Original[] {
  const plain = (overrides: Parameters<typeof licenseClaims>[0]) => {
    const claims = licenseClaims(overrides);
    return { format, claims, key: issuer, text: signLicense(issuer, claims, { format }) };
  };
  const certificate = signCertificate(root, certificateClaims(certified), { format });
  const viaCertificate = licenseClaims({ sub: 'lic-certified', plan: 'team-yearly' });
  return [
    plain({}),
    plain({
      sub: 'lic-other',
      plan: 'basic',
      access: 'trial',
      ent: ['a'],
      quota: { big: { limit: 2 ** 40 } },
      exp: T0 + 400 * DAY,
      rfa: undefined,
    }),
    {
      format,
      claims: viaCertificate,
      key: certified,
      certificate,
      text: signLicense(certified, viaCertificate, { format, certificate }),
    },
  ];
}

const originals: Record<TokenFormat, Original[]> = {
  jwt: makeOriginals('jwt'),
  cwt: makeOriginals('cwt'),
};

/** hex(signingInput) + '|' + hex(signature) of every original: the signed contents. */
const signedContents = new Set(
  [...originals.jwt, ...originals.cwt].map((o) => signedContentOf(o.text)),
);

function signedContentOf(input: string | Uint8Array): string {
  const document = decodeDocument(input, 'license');
  return `${toHex(document.signingInput)}|${toHex(document.signature)}`;
}

function withTimeout(promise: Promise<VerifyResult>): Promise<VerifyResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('verify did not settle in time')),
      VERIFY_TIMEOUT_MS,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const counts = new Map<string, number>();
function count(key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The property, for one mutated input derived from `original`. */
async function check(
  input: string | Uint8Array,
  original: Original,
  mutation: string,
): Promise<void> {
  const result = await withTimeout(verifier.verify(input));
  expect(STATUSES).toContain(result.status);
  expect(typeof result.reason).toBe('string');
  count(`${original.format} ${mutation}: ${result.valid ? 'VALID' : result.status}`);
  if (!result.valid) {
    if (['malformed', 'untrusted_key', 'invalid_signature'].includes(result.status)) {
      // Claims of a token whose signature was not checked are never handed out.
      expect(result.claims).toBeUndefined();
    }
    return;
  }
  // Valid ⇒ the signed content is byte-equal to an original's.
  expect(signedContents.has(signedContentOf(input))).toBe(true);
  const bytes = typeof input === 'string' ? tokenBytes(input) : input;
  if (result.format === 'jwt') {
    // A JWT's signed content is its text up to the signature: the whole token is original.
    expect(typeof input === 'string' && originals.jwt.some((o) => o.text === input)).toBe(true);
  } else if (typeof input === 'string' && input !== original.text) {
    // Canonical base64url: another text is other bytes, never the same token spelled twice.
    expect(toHex(bytes)).not.toBe(toHex(tokenBytes(original.text)));
  }
}

// ───────────────────────── mutations ─────────────────────────

const originalIndex = (format: TokenFormat) => fc.nat(originals[format].length - 1);

/** Mutations of the token text, for either format. */
const textMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip text bit' as const), at: fc.nat(), bit: fc.nat(6) }),
  fc.record({ kind: fc.constant('truncate text' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert characters' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.string({ minLength: 1, maxLength: 4 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
      fc.constantFrom('.', '=', '-', '_', 'A', ' ', '\n'),
    ),
  }),
  fc.record({
    kind: fc.constant('delete characters' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
);

type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

function applyTextMutation(text: string, m: TextMutation): string {
  const at = m.at % (text.length + 1);
  switch (m.kind) {
    case 'flip text bit': {
      const i = Math.min(at, text.length - 1);
      return (
        text.slice(0, i) +
        String.fromCharCode(text.charCodeAt(i) ^ (1 << m.bit)) +
        text.slice(i + 1)
      );
    }
    case 'truncate text':
      return text.slice(0, at % text.length);
    case 'insert characters':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'delete characters':
      return text.slice(0, at) + text.slice(at + m.length);
  }
}

/** Mutations of decoded bytes: a JWT segment's, or the whole CWT's. */
const byteMutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip byte bits' as const),
    segment: fc.nat(2),
    flips: fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('insert bytes' as const),
    segment: fc.nat(2),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('truncate bytes' as const), segment: fc.nat(2), at: fc.nat() }),
);

type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateBytes(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  if (m.kind === 'flip byte bits') {
    const out = bytes.slice();
    if (out.length === 0) return out;
    for (const [at, bit] of m.flips) out[at % out.length]! ^= 1 << bit;
    return out;
  }
  if (m.kind === 'insert bytes') {
    const at = m.at % (bytes.length + 1);
    return concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
  }
  return bytes.slice(0, m.at % Math.max(bytes.length, 1));
}

function applyByteMutation(original: Original, m: ByteMutation): string | Uint8Array {
  if (original.format === 'jwt') {
    const segments = original.text.split('.');
    const decoded = base64urlDecode(segments[m.segment]!);
    segments[m.segment] = base64urlEncode(mutateBytes(decoded, m));
    return segments.join('.');
  }
  const mutated = mutateBytes(tokenBytes(original.text), m);
  // Present half of the CWTs as bytes, half as text.
  return m.segment === 0 ? mutated : base64urlEncode(mutated);
}

/** Swaps a subset of claims between two licenses' payloads. */
function swapClaims<K>(
  a: Map<K, unknown>,
  b: Map<K, unknown>,
  pick: (index: number) => boolean,
): Map<K, unknown> {
  const out = new Map(a);
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  keys.forEach((key, i) => {
    if (!pick(i)) return;
    if (b.has(key)) out.set(key, b.get(key));
    else out.delete(key);
  });
  return out;
}

type Signing = 'old signature' | 'wrong key, own kid' | 'wrong key, trusted kid';
const signing = fc.constantFrom<Signing>(
  'old signature',
  'wrong key, own kid',
  'wrong key, trusted kid',
);

function jwtClaimSwap(a: Original, b: Original, picks: boolean[], how: Signing): string {
  const payloadA = new Map(Object.entries(licenseClaimsToJson(a.claims)));
  const payloadB = new Map(Object.entries(licenseClaimsToJson(b.claims)));
  const swapped = Object.fromEntries(
    swapClaims(payloadA, payloadB, (i) => picks[i % picks.length]!),
  );
  const [headerSegment, , signatureSegment] = a.text.split('.');
  const header = JSON.parse(Buffer.from(headerSegment!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  if (how === 'old signature') {
    return rawJwt(a.key, header, swapped, { signature: base64urlDecode(signatureSegment!) });
  }
  const kid = how === 'wrong key, own kid' ? wrong.kid : a.key.kid;
  return rawJwt(wrong, { ...header, kid }, swapped);
}

function cwtClaimSwap(a: Original, b: Original, picks: boolean[], how: Signing): Uint8Array {
  const mapA = licenseToCwt(a.claims) as Map<number, unknown>;
  const mapB = licenseToCwt(b.claims) as Map<number, unknown>;
  let n = 0;
  const pick = () => picks[n++ % picks.length]!;
  const top = swapClaims(mapA, mapB, pick);
  // One level down too: the licensekit claims under the private label.
  const privateA = mapA.get(-65537) as Map<number, unknown>;
  const privateB = mapB.get(-65537) as Map<number, unknown>;
  if (top.get(-65537) === privateA) top.set(-65537, swapClaims(privateA, privateB, pick));
  const sign1 = decodeCoseSign1(tokenBytes(a.text));
  const payload = top as Parameters<typeof rawCoseBytes>[2];
  if (how === 'old signature') {
    return rawCoseBytes(a.key, sign1.protectedBytes, payload, { signature: sign1.signature });
  }
  const header = coseHeader('license', how === 'wrong key, own kid' ? wrong.kid : a.key.kid);
  if (a.certificate !== undefined) header.set(-65537, base64urlDecode(a.certificate));
  return rawCoseBytes(wrong, header, payload);
}

/** Preferred serialization except the heads whose running index is in `widen`. */
function encodeWide(value: CborValue, widen: ReadonlySet<number>, counter = { n: 0 }): Uint8Array {
  const wideHead = (major: number, n: number | bigint): Uint8Array => {
    const index = counter.n++;
    if (!widen.has(index)) return head(major, n);
    const v = BigInt(n);
    const width = v < 24n ? 1 : v < 0x100n ? 2 : v < 0x10000n ? 4 : 8;
    return head(major, v, width);
  };
  if (typeof value === 'number')
    return value >= 0 ? wideHead(0, value) : wideHead(1, -1n - BigInt(value));
  if (typeof value === 'string') {
    const utf8 = new TextEncoder().encode(value);
    return concat(wideHead(3, utf8.length), utf8);
  }
  if (value instanceof Uint8Array) return concat(wideHead(2, value.length), value);
  if (value === false) return Uint8Array.of(0xf4);
  if (value === true) return Uint8Array.of(0xf5);
  if (value === null) return Uint8Array.of(0xf6);
  if (value instanceof CborTag)
    return concat(wideHead(6, value.tag), encodeWide(value.value, widen, counter));
  if (Array.isArray(value)) {
    return concat(wideHead(4, value.length), ...value.map((v) => encodeWide(v, widen, counter)));
  }
  const entries = [...value].flatMap(([k, v]) => [
    encodeWide(k, widen, counter),
    encodeWide(v, widen, counter),
  ]);
  return concat(wideHead(5, value.size), ...entries);
}

type WidenTarget = 'payload' | 'protected header' | 'outer structure';

/** The CWT re-encoded with some heads in a longer form, the old signature kept. */
function nonCanonicalCwt(
  original: Original,
  target: WidenTarget,
  picks: readonly number[],
): Uint8Array {
  const bytes = tokenBytes(original.text);
  // Head indexes are taken modulo the number of heads of the target, so every run widens.
  const wide = (value: CborValue) => {
    const heads = { n: 0 };
    encodeWide(value, new Set(), heads);
    return encodeWide(value, new Set(picks.map((p) => p % heads.n)));
  };
  if (target === 'outer structure') return wide(decodeStrictCbor(bytes));
  const sign1 = decodeCoseSign1(bytes);
  const protectedBytes =
    target === 'protected header'
      ? wide(decodeStrictCbor(sign1.protectedBytes))
      : sign1.protectedBytes;
  const payload = target === 'payload' ? wide(decodeStrictCbor(sign1.payload)) : sign1.payload;
  return concat(
    head(6, 18),
    cborArray([
      cborBytes(protectedBytes),
      Uint8Array.of(0xa0),
      cborBytes(payload),
      cborBytes(sign1.signature),
    ]),
  );
}

/** Unsigned changes that leave the signed content as it was (a CWT may still verify). */
function unsignedCwtChange(original: Original, how: 'tag 61' | 'unprotected header'): Uint8Array {
  const sign1 = decodeCoseSign1(tokenBytes(original.text));
  return rawCoseBytes(original.key, sign1.protectedBytes, sign1.payload, {
    signature: sign1.signature,
    ...(how === 'tag 61'
      ? { cwtTag: true }
      : { unprotected: new Map<number, string>([[99, 'x']]) }),
  });
}

// ───────────────────────── the properties ─────────────────────────

const RUNS = { text: 400, bytes: 300, swap: 200, claims: 200, canonical: 200 };

describe('verify() under mutation', () => {
  test('the originals are valid and each is what it claims to be', async () => {
    for (const format of ['jwt', 'cwt'] as const) {
      for (const original of originals[format]) {
        const result = await verifier.verify(original.text);
        expect(result.valid).toBe(true);
        expect(result.format).toBe(format);
        expect(result.kid).toBe(original.key.kid);
      }
    }
  });

  describe.each(['jwt', 'cwt'] as const)('%s', (format) => {
    test(`text mutations (${RUNS.text} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(originalIndex(format), textMutation, async (i, m) => {
          const original = originals[format][i]!;
          await check(applyTextMutation(original.text, m), original, m.kind);
        }),
        { numRuns: RUNS.text },
      );
    });

    test(`decoded-byte mutations (${RUNS.bytes} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(originalIndex(format), byteMutation, async (i, m) => {
          const original = originals[format][i]!;
          await check(applyByteMutation(original, m), original, m.kind);
        }),
        { numRuns: RUNS.bytes },
      );
    });

    test(`claims swapped between two tokens and re-encoded, old signature or wrong key (${RUNS.claims} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          originalIndex(format),
          originalIndex(format),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 24 }),
          signing,
          async (i, j, picks, how) => {
            const a = originals[format][i]!;
            const b = originals[format][j]!;
            const input =
              format === 'jwt' ? jwtClaimSwap(a, b, picks, how) : cwtClaimSwap(a, b, picks, how);
            await check(input, a, `claim swap, ${how}`);
          },
        ),
        { numRuns: RUNS.claims },
      );
    });
  });

  test(`JWT: header, payload and signature segments swapped between valid tokens (${RUNS.swap} runs)`, async () => {
    // The pool: the JWT originals plus a token signed by the untrusted key.
    const pool = [
      ...originals.jwt.map((o) => o.text),
      signLicense(wrong, licenseClaims(), { format: 'jwt' }),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.nat(pool.length - 1), fc.nat(pool.length - 1), fc.nat(pool.length - 1)),
        async (sources) => {
          const input = sources
            .map((source, segment) => pool[source]!.split('.')[segment])
            .join('.');
          await check(input, originals.jwt[0]!, 'segment swap');
        },
      ),
      { numRuns: RUNS.swap },
    );
  });

  test(`CWT: non-canonical re-encoding with the old signature (${RUNS.canonical} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        originalIndex('cwt'),
        fc.constantFrom<WidenTarget>('payload', 'protected header', 'outer structure'),
        fc.uniqueArray(fc.nat(60), { minLength: 1, maxLength: 3 }),
        async (i, target, indexes) => {
          const original = originals.cwt[i]!;
          const input = nonCanonicalCwt(original, target, indexes);
          const result = await withTimeout(verifier.verify(input));
          if (toHex(input) !== toHex(tokenBytes(original.text))) {
            // Every widened head is refused by the strict decoder before any signature check.
            expect(result).toMatchObject({
              valid: false,
              status: 'malformed',
              reason: 'not_canonical',
            });
          }
          await check(input, original, `non-canonical ${target}`);
        },
      ),
      { numRuns: RUNS.canonical },
    );
  });

  test('CWT: unsigned changes (tag 61, unprotected header) keep the signed content, yet are refused: a token has one encoding', async () => {
    for (const original of originals.cwt) {
      for (const how of ['tag 61', 'unprotected header'] as const) {
        const changed = unsignedCwtChange(original, how);
        const result = await verifier.verify(base64urlEncode(changed));
        expect(result).toMatchObject({
          valid: false,
          status: 'malformed',
          reason: 'bad_structure',
        });
        await check(base64urlEncode(changed), original, `unsigned ${how}`);
      }
    }
  });

  test('report', () => {
    const lines = [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `  ${k}: ${n}`);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.info(`fuzz outcomes (${total} verifications):\n${lines.join('\n')}`);
    const perFormat = (f: string) =>
      [...counts].filter(([k]) => k.startsWith(`${f} `)).reduce((n, [, c]) => n + c, 0);
    expect(perFormat('jwt')).toBeGreaterThanOrEqual(1000);
    expect(perFormat('cwt')).toBeGreaterThanOrEqual(1000);
  });
});
