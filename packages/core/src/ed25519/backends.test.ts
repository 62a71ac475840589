import { inspect } from 'node:util';
import * as ed from '@noble/ed25519';
import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { readVector } from '../../../../test/support/vectors.js';
import { KeyError, UnsupportedError } from '../errors.js';
import type { Ed25519Backend } from './backend.js';
import { enableNobleFallback } from './enable-noble.js';
import { nobleBackend } from './noble.js';
import * as nodePlatform from './node.js';
import { probeVector } from './probe.js';
import * as webPlatform from './web.js';
import { webCryptoBackend } from './webcrypto-backend.js';

// ---------------------------------------------------------------------------------------
// Vector files (../shared/vectors, see its README.md) and helpers
// ---------------------------------------------------------------------------------------

interface WycheproofEddsaFile {
  numberOfTests: number;
  testGroups: {
    publicKey: { pk: string };
    tests: {
      tcId: number;
      comment: string;
      msg: string;
      sig: string;
      result: 'valid' | 'invalid' | 'acceptable';
    }[];
  }[];
}

interface Rfc8032File {
  tests: {
    name: string;
    secretKey: string;
    publicKey: string;
    message: string;
    signature: string;
  }[];
}

interface Rfc8037File {
  'A.1_privateKeyHex': string;
  'A.1_publicKeyHex': string;
  'A.4_signingInput': string;
  'A.4_signatureB64u': string;
  'A.4_compactJws': string;
  'A.5_signatureHex': string;
}

const wycheproof = readVector<WycheproofEddsaFile>('wycheproof/ed25519_test.json');
const wycheproofCases = wycheproof.testGroups.flatMap((group) =>
  group.tests.map((test) => ({ ...test, publicKey: group.publicKey.pk })),
);
const rfc8032 = readVector<Rfc8032File>('rfc8032-ed25519.json').tests;
const rfc8037 = readVector<Rfc8037File>('rfc8037-jws.json');

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A copy of `bytes` with one bit inverted; an empty input becomes one set byte. */
function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(1);
  const out = bytes.slice();
  const index = Math.floor(bit / 8) % out.length;
  out[index] = out[index]! ^ (1 << (bit % 8));
  return out;
}

/** RFC 8032 §5.1: the order of the base point. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The signature with S replaced by S + L: the same scalar mod L, an encoding §5.1.7 forbids. */
function addOrderToS(signature: Uint8Array): Uint8Array {
  const s = BigInt(`0x${toHex(signature.slice(32).reverse())}`);
  const sPlusL = fromHex((s + L).toString(16).padStart(64, '0')).reverse();
  const out = signature.slice();
  out.set(sPlusL, 32);
  return out;
}

const backends: Ed25519Backend[] = [
  nodePlatform.nodeBackend,
  webCryptoBackend(globalThis.crypto.subtle),
  nobleBackend,
];

// ---------------------------------------------------------------------------------------
// Wycheproof: every case through every backend
// ---------------------------------------------------------------------------------------

test('the Wycheproof file has the 151 cases (88 valid, 63 invalid) the tests rely on', () => {
  expect(wycheproofCases).toHaveLength(wycheproof.numberOfTests);
  expect(wycheproofCases).toHaveLength(151);
  expect(wycheproofCases.filter((c) => c.result === 'valid')).toHaveLength(88);
  expect(wycheproofCases.filter((c) => c.result === 'invalid')).toHaveLength(63);
});

describe.each(backends)('Wycheproof ed25519_test.json on the $name backend', (backend) => {
  test.each(wycheproofCases)('tcId $tcId is $result ($comment)', async (vector) => {
    const key = await backend.importPublicKey(fromHex(vector.publicKey));
    const verdict = backend.verify(key, fromHex(vector.msg), fromHex(vector.sig));
    await expect(verdict).resolves.toBe(vector.result === 'valid');
  });
});

test('noble needs zip215: false — its ZIP-215 default accepts tcId 151 (non-canonical R)', () => {
  const vector = wycheproofCases.find((c) => c.tcId === 151)!;
  const args = [fromHex(vector.sig), fromHex(vector.msg), fromHex(vector.publicKey)] as const;
  expect(vector.result).toBe('invalid');
  expect(ed.verify(...args)).toBe(true);
  expect(ed.verify(...args, { zip215: false })).toBe(false);
});

// ---------------------------------------------------------------------------------------
// Known answers: RFC 8032 §7.1 and RFC 8037 Appendix A
// ---------------------------------------------------------------------------------------

describe.each(backends)('RFC 8032 §7.1 on the $name backend', (backend) => {
  test.each(rfc8032)('$name: derives the key, signs byte for byte, verifies', async (vector) => {
    const privateKey = await backend.importPrivateKey(fromHex(vector.secretKey));
    expect(toHex(privateKey.publicKey)).toBe(vector.publicKey);

    const message = fromHex(vector.message);
    expect(toHex(await backend.sign(privateKey, message))).toBe(vector.signature);

    const key = await backend.importPublicKey(fromHex(vector.publicKey));
    const signature = fromHex(vector.signature);
    expect(await backend.verify(key, message, signature)).toBe(true);
  });

  test.each(rfc8032)(
    '$name: keys given as Node Buffers are copied, so wiping them is safe',
    async (vector) => {
      // Buffer's own slice() is a view: a copy made with it would be wiped along.
      const seed = Buffer.from(fromHex(vector.secretKey));
      const publicKey = Buffer.from(fromHex(vector.publicKey));
      const key = await backend.importPublicKey(publicKey);
      const message = fromHex(vector.message);
      const signature = fromHex(vector.signature);
      publicKey.fill(0);
      expect(toHex(key.raw)).toBe(vector.publicKey);
      expect(await backend.verify(key, message, signature)).toBe(true);
      const privateKey = await backend.importPrivateKey(seed);
      seed.fill(0);
      expect(toHex(await backend.sign(privateKey, message))).toBe(vector.signature);
    },
  );

  test.each(rfc8032)('$name: any one-bit change gives false', async (vector) => {
    const publicKey = fromHex(vector.publicKey);
    const message = fromHex(vector.message);
    const signature = fromHex(vector.signature);
    const key = await backend.importPublicKey(publicKey);

    for (const bit of [0, 7, message.length * 8 - 1]) {
      expect(await backend.verify(key, flipBit(message, bit), signature)).toBe(false);
    }
    // First and last bit of R, then of S (the last one makes S exceed L).
    for (const bit of [0, 255, 256, 511]) {
      expect(await backend.verify(key, message, flipBit(signature, bit))).toBe(false);
    }
    for (const bit of [0, 128, 254, 255]) {
      const flippedKey = await backend.importPublicKey(flipBit(publicKey, bit));
      expect(await backend.verify(flippedKey, message, signature)).toBe(false);
    }
  });
});

describe.each(backends)('RFC 8037 Appendix A on the $name backend', (backend) => {
  test('A.4: the A.1 key signs the signing input into the published JWS', async () => {
    const privateKey = await backend.importPrivateKey(fromHex(rfc8037['A.1_privateKeyHex']));
    expect(toHex(privateKey.publicKey)).toBe(rfc8037['A.1_publicKeyHex']);

    const signingInput = rfc8037['A.4_signingInput'];
    const signature = await backend.sign(privateKey, utf8(signingInput));
    const signatureB64u = Buffer.from(signature).toString('base64url');
    expect(signatureB64u).toBe(rfc8037['A.4_signatureB64u']);
    expect(`${signingInput}.${signatureB64u}`).toBe(rfc8037['A.4_compactJws']);
  });

  test('A.5: the published signature verifies', async () => {
    const key = await backend.importPublicKey(fromHex(rfc8037['A.1_publicKeyHex']));
    const message = utf8(rfc8037['A.4_signingInput']);
    const signature = fromHex(rfc8037['A.5_signatureHex']);
    expect(await backend.verify(key, message, signature)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// Malformed input: false, never a throw; unusable private keys: KeyError
// ---------------------------------------------------------------------------------------

describe.each(backends)('malformed input on the $name backend', (backend) => {
  const [vector] = rfc8032;
  const publicKey = fromHex(vector!.publicKey);
  const message = fromHex(vector!.message);
  const signature = fromHex(vector!.signature);

  test.each(rfc8032)('$name: S + L (S >= L, RFC 8032 §5.1.7) is false', async (known) => {
    const key = await backend.importPublicKey(fromHex(known.publicKey));
    const malleated = addOrderToS(fromHex(known.signature));
    expect(await backend.verify(key, fromHex(known.message), malleated)).toBe(false);
  });

  test.each([63, 65, 0, 128])('a %i-byte signature is false', async (length) => {
    const key = await backend.importPublicKey(publicKey);
    const resized = new Uint8Array(length);
    resized.set(signature.subarray(0, Math.min(length, signature.length)));
    await expect(backend.verify(key, message, resized)).resolves.toBe(false);
  });

  test.each([31, 33, 0, 64])('a %i-byte public key imports and is false', async (length) => {
    const resized = new Uint8Array(length);
    resized.set(publicKey.subarray(0, Math.min(length, publicKey.length)));
    const key = await backend.importPublicKey(resized);
    await expect(backend.verify(key, message, signature)).resolves.toBe(false);
  });

  test('a 32-byte string that is not a point imports and is false', async () => {
    // y = 2 has no x on edwards25519 (the decoding of RFC 8032 §5.1.3 finds no square root).
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    const key = await backend.importPublicKey(notAPoint);
    await expect(backend.verify(key, message, signature)).resolves.toBe(false);
  });

  test('input that is not bytes at all is false', async () => {
    const key = await backend.importPublicKey(undefined as unknown as Uint8Array);
    await expect(backend.verify(key, message, signature)).resolves.toBe(false);
    const good = await backend.importPublicKey(publicKey);
    const notBytes = Array.from(signature) as unknown as Uint8Array;
    await expect(backend.verify(good, message, notBytes)).resolves.toBe(false);
  });

  test('a view into a larger buffer is read at its offset', async () => {
    const padded = new Uint8Array(100);
    padded.set(publicKey, 7);
    const key = await backend.importPublicKey(padded.subarray(7, 39));
    expect(await backend.verify(key, message, signature)).toBe(true);
  });

  test('the handle keeps its own copy of the key bytes', async () => {
    const bytes = publicKey.slice();
    const key = await backend.importPublicKey(bytes);
    bytes.fill(0);
    expect(await backend.verify(key, message, signature)).toBe(true);
  });

  test.each([0, 31, 33, 64])('a %i-byte seed is a KeyError', async (length) => {
    await expect(backend.importPrivateKey(new Uint8Array(length))).rejects.toBeInstanceOf(KeyError);
  });
});

describe('handles across backends', () => {
  const [vector] = rfc8032;

  test.each(backends)('a public key imported by any backend verifies on $name', async (backend) => {
    for (const importer of backends) {
      const key = await importer.importPublicKey(fromHex(vector!.publicKey));
      const ok = await backend.verify(key, fromHex(vector!.message), fromHex(vector!.signature));
      expect(ok, `imported by ${importer.name}`).toBe(true);
    }
  });

  test.each(backends)(
    '$name refuses to sign with a private key of another backend',
    async (backend) => {
      for (const importer of backends.filter((b) => b !== backend)) {
        const key = await importer.importPrivateKey(fromHex(vector!.secretKey));
        await expect(backend.sign(key, new Uint8Array(0))).rejects.toBeInstanceOf(KeyError);
      }
    },
  );

  test.each(backends)(
    'the $name private key handle does not serialise its secret',
    async (backend) => {
      const key = await backend.importPrivateKey(fromHex(vector!.secretKey));
      expect(Object.keys(key)).toEqual(['publicKey']);
      expect(JSON.stringify(key)).toBe(JSON.stringify({ publicKey: key.publicKey }));
      // The seed as util.inspect prints bytes (9d 61 b1 9d = 157, 97, 177, 157, padded to align).
      const seedPattern = /157,\s+97,\s+177,\s+157/;
      expect(inspect(fromHex(vector!.secretKey))).toMatch(seedPattern);
      expect(inspect(key, { showHidden: true, depth: 5 })).not.toMatch(seedPattern);
    },
  );
});

// ---------------------------------------------------------------------------------------
// Property: the three backends agree on random keys, messages and mutations
// ---------------------------------------------------------------------------------------

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('none' as const) }),
  fc.record({ kind: fc.constant('message' as const), bit: fc.nat() }),
  fc.record({ kind: fc.constant('signature' as const), bit: fc.nat({ max: 511 }) }),
  fc.record({ kind: fc.constant('key' as const), bit: fc.nat({ max: 255 }) }),
  fc.record({
    kind: fc.constant('randomSignature' as const),
    bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  }),
  fc.record({
    kind: fc.constant('randomKey' as const),
    bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  }),
);

test('all backends sign alike and agree on a few hundred random (key, message, mutation)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      mutation,
      async (seed, message, change) => {
        const signatures = await Promise.all(
          backends.map(async (b) => toHex(await b.sign(await b.importPrivateKey(seed), message))),
        );
        expect(new Set(signatures).size).toBe(1);

        let publicKey = (await nobleBackend.importPrivateKey(seed)).publicKey;
        let signedMessage: Uint8Array = message;
        let signature: Uint8Array = fromHex(signatures[0]!);
        if (change.kind === 'message') signedMessage = flipBit(message, change.bit);
        if (change.kind === 'signature') signature = flipBit(signature, change.bit);
        if (change.kind === 'key') publicKey = flipBit(publicKey, change.bit);
        if (change.kind === 'randomSignature') signature = change.bytes;
        if (change.kind === 'randomKey') publicKey = change.bytes;

        const verdicts = await Promise.all(
          backends.map(async (b) =>
            b.verify(await b.importPublicKey(publicKey), signedMessage, signature),
          ),
        );
        expect(new Set(verdicts).size).toBe(1);
        if (change.kind === 'none') expect(verdicts[0]).toBe(true);
      },
    ),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------------------
// Platform modules (#ed25519-platform)
// ---------------------------------------------------------------------------------------

const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'; // FIPS 180-2 B.1
const realSubtle = globalThis.crypto.subtle;

/** A SubtleCrypto as in a runtime without Ed25519: the algorithm name is not recognised. */
const subtleWithoutEd25519 = {
  importKey: () => Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError')),
  verify: () => Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError')),
} as unknown as SubtleCrypto;

/** A SubtleCrypto whose Ed25519 skips the S < L check (here: accepts everything). */
const subtleWithLaxEd25519 = {
  importKey: realSubtle.importKey.bind(realSubtle),
  verify: () => Promise.resolve(true),
} as unknown as SubtleCrypto;

describe('the node platform module', () => {
  test('defaultBackend() is the node:crypto backend, memoized', async () => {
    expect(nodePlatform.platformName).toBe('node');
    expect(await nodePlatform.defaultBackend()).toBe(nodePlatform.nodeBackend);
    expect(nodePlatform.defaultBackend()).toBe(nodePlatform.defaultBackend());
  });

  test('sha256("abc")', async () => {
    expect(toHex(await nodePlatform.sha256(utf8('abc')))).toBe(SHA256_ABC);
  });
});

describe('the web platform module', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test("defaultBackend() on Node is WebCrypto, since Node's WebCrypto has Ed25519", async () => {
    expect(webPlatform.platformName).toBe('web');
    const backend = await webPlatform.defaultBackend();
    expect(backend.name).toBe('webcrypto');
    expect(await webPlatform.defaultBackend()).toBe(backend);
  });

  test('defaultVerifyBackend() verifies like defaultBackend() and refuses to sign', async () => {
    const verifier = await webPlatform.defaultVerifyBackend();
    const whole = await webPlatform.defaultBackend();
    expect(verifier.name).toBe('webcrypto');
    expect(await webPlatform.defaultVerifyBackend()).toBe(verifier);
    const seed = new Uint8Array(32).fill(7);
    const privateKey = await whole.importPrivateKey(seed);
    const message = new TextEncoder().encode('licensekit');
    const signature = await whole.sign(privateKey, message);
    const publicKey = await verifier.importPublicKey(privateKey.publicKey);
    expect(await verifier.verify(publicKey, message, signature)).toBe(true);
    signature[0]! ^= 1;
    expect(await verifier.verify(publicKey, message, signature)).toBe(false);
    await expect(verifier.importPrivateKey(seed)).rejects.toBeInstanceOf(UnsupportedError);
    await expect(verifier.sign(privateKey, message)).rejects.toBeInstanceOf(UnsupportedError);
  });

  test('selectBackend() takes WebCrypto when it passes the probe', async () => {
    expect((await webPlatform.selectBackend(realSubtle)).name).toBe('webcrypto');
  });

  test('without the opt-in there is no fallback: UnsupportedError names enableNobleFallback', async () => {
    await expect(webPlatform.selectBackend(subtleWithoutEd25519)).rejects.toThrow(
      /enableNobleFallback/,
    );
  });

  test.each([
    ['no SubtleCrypto (insecure context)', undefined],
    ['a SubtleCrypto without Ed25519', subtleWithoutEd25519],
    ['a SubtleCrypto whose Ed25519 accepts S >= L', subtleWithLaxEd25519],
  ])('selectBackend() falls back to noble (enabled) with %s', async (_, subtle) => {
    enableNobleFallback();
    expect(await webPlatform.selectBackend(subtle)).toBe(nobleBackend);
  });

  test('the probe is RFC 8032 TEST 1 and its signature with S + L', () => {
    const test1 = rfc8032.find((v) => v.name === 'TEST 1')!;
    const probe = probeVector();
    expect(toHex(probe.publicKey)).toBe(test1.publicKey);
    expect(toHex(probe.signature)).toBe(test1.signature);
    expect(toHex(probe.malleated)).toBe(toHex(addOrderToS(fromHex(test1.signature))));
  });

  test('sha256("abc") through crypto.subtle', async () => {
    expect(toHex(await webPlatform.sha256(utf8('abc')))).toBe(SHA256_ABC);
  });

  test('sha256("abc") without crypto.subtle falls back to @noble/hashes (enabled)', async () => {
    enableNobleFallback();
    vi.stubGlobal('crypto', {});
    expect(globalThis.crypto.subtle).toBeUndefined();
    expect(toHex(await webPlatform.sha256(utf8('abc')))).toBe(SHA256_ABC);
  });
});
