import {
  createPublicKey,
  generateKeyPairSync,
  hash,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readVector } from '../../../../../test/support/vectors.js';
import { BatchVerifier, recode, type SignedMessage, windowsOf } from './batch.js';
import { Edwards, L, P } from './edwards.js';
import { FREE_ADDRESS, fieldModuleBytes, LIMBS, limbBits } from './field-module.js';

interface WycheproofEddsaFile {
  testGroups: {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }[];
  }[];
}
interface Rfc8032File {
  tests: { name: string; publicKey: string; message: string; signature: string }[];
}

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const rawKey = (key: KeyObject) =>
  new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url'));
const nodeVerify = (item: SignedMessage): boolean => {
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(item.publicKey).toString('base64url') },
      format: 'jwk',
    });
    return verify(null, item.message, key, item.signature);
  } catch {
    return false;
  }
};
/** The verdicts, and how many signatures had to be checked alone. */
function run(verifier: BatchVerifier, items: readonly SignedMessage[]) {
  let alone = 0;
  const verdicts = verifier.verifyEach(items, (item) => {
    alone++;
    return nodeVerify(item);
  });
  return { verdicts, alone };
}

const signers = [0, 1, 2].map(() => generateKeyPairSync('ed25519'));
function signed(signer: number, message: Uint8Array): SignedMessage {
  const { publicKey, privateKey } = signers[signer]!;
  return {
    publicKey: rawKey(publicKey),
    message,
    signature: new Uint8Array(sign(null, message, privateKey)),
  };
}

const modP = (value: bigint) => ((value % P) + P) % P;
const modPow = (base: bigint, exponent: bigint, modulus: bigint) => {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
};
const D = modP(-121665n * modPow(121666n, P - 2n, P));
const onCurve = ({ x, y }: { x: bigint; y: bigint }) =>
  modP(-x * x + y * y) === modP(1n + D * x * x * y * y);
const encode = ({ x, y }: { x: bigint; y: bigint }) => {
  const bytes = new Uint8Array(32);
  let rest = y;
  for (let i = 0; i < 32; i++, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  bytes[31]! |= Number(x & 1n) << 7;
  return bytes;
};
const littleEndian = (bytes: Uint8Array) =>
  BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);

describe('field arithmetic modulo 2^255 − 19 (WebAssembly)', () => {
  const { exports } = new WebAssembly.Instance(
    new WebAssembly.Module(fieldModuleBytes(1) as Uint8Array<ArrayBuffer>),
  );
  const fe = exports as unknown as Record<string, (...args: number[]) => void> & {
    memory: WebAssembly.Memory;
  };
  const limbs = () => new BigInt64Array(fe.memory.buffer);
  const [A, B, C] = [FREE_ADDRESS, FREE_ADDRESS + 80, FREE_ADDRESS + 160];
  const put = (address: number, value: bigint) => {
    let rest = value;
    for (let i = 0; i < LIMBS; i++) {
      limbs()[address / 8 + i] = rest & ((1n << BigInt(limbBits(i))) - 1n);
      rest >>= BigInt(limbBits(i));
    }
  };
  const read = (address: number) => {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < LIMBS; i++) {
      value += limbs()[address / 8 + i]! << shift;
      shift += BigInt(limbBits(i));
    }
    return value;
  };
  const element = fc.bigInt({ min: 0n, max: P - 1n });

  test('mul, square, add, sub, repeated squaring and the canonical form agree with BigInt', () => {
    fc.assert(
      fc.property(element, element, (a, b) => {
        put(A, a);
        put(B, b);
        fe.fe_mul!(C, A, B);
        expect(modP(read(C))).toBe((a * b) % P);
        fe.fe_sq!(C, A);
        expect(modP(read(C))).toBe((a * a) % P);
        fe.fe_add!(C, A, B);
        expect(modP(read(C))).toBe((a + b) % P);
        fe.fe_sub!(C, A, B);
        expect(modP(read(C))).toBe(modP(a - b));
        // A difference (signed limbs) squared, then brought to its unique form.
        fe.fe_mul!(C, C, C);
        fe.fe_canon!(C, C);
        expect(read(C)).toBe(modP((a - b) * (a - b)));
        fe.fe_sqn!(C, A, 7);
        expect(modP(read(C))).toBe(modPow(a, 128n, P));
      }),
      { numRuns: 300 },
    );
  });

  test('the canonical form of values at and around p', () => {
    for (const value of [0n, 1n, P - 1n, P, P + 1n, 2n ** 255n - 1n]) {
      put(A, value);
      fe.fe_canon!(C, A);
      expect(read(C)).toBe(value % P);
    }
  });

  test('from bytes: the low 255 bits, little-endian', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        new Uint8Array(fe.memory.buffer).set(bytes, C + 200);
        fe.fe_frombytes!(A, C + 200);
        expect(modP(read(A))).toBe((littleEndian(bytes) & (2n ** 255n - 1n)) % P);
      }),
      { numRuns: 200 },
    );
  });
});

describe('point decoding (RFC 8032 §5.1.3)', () => {
  const curve = new Edwards();
  curve.reserveSlots(1);
  const slot = curve.pointSlot(0);

  test('the base point and node-made public keys decode to points of the curve', () => {
    const base = new Uint8Array(32).fill(0x66);
    base[0] = 0x58;
    expect(curve.decode(slot, base)).toBe(true);
    const point = curve.affine(slot);
    expect(point.y).toBe(modP(4n * modPow(5n, P - 2n, P)));
    expect(onCurve(point)).toBe(true);
    for (const { publicKey } of signers) {
      expect(curve.decode(slot, rawKey(publicKey))).toBe(true);
      expect(encode(curve.affine(slot))).toEqual(rawKey(publicKey));
    }
  });

  test('refuses y ≥ p, x = 0 with the sign bit, and a y with no x', () => {
    const yIsP = encode({ x: 0n, y: P });
    expect(curve.decode(slot, yIsP)).toBe(false);
    const identityWithSign = encode({ x: 1n, y: 1n });
    expect(curve.decode(slot, identityWithSign)).toBe(false);
    expect(curve.decode(slot, encode({ x: 0n, y: 1n }))).toBe(true);
    // y = 2: x² = (y² − 1)/(d·y² + 1) = 3/(4d + 1); refused exactly when that is no square.
    const x2 = modP(3n * modPow(modP(4n * D + 1n), P - 2n, P));
    const isSquare = modPow(x2, (P - 1n) / 2n, P) === 1n;
    expect(curve.decode(slot, encode({ x: 0n, y: 2n }))).toBe(isSquare);
  });
});

describe('batch verification', () => {
  const verifier = new BatchVerifier();

  test('RFC 8032 §7.1 vectors: one batch, nothing checked alone', () => {
    const vectors = readVector<Rfc8032File>('rfc8032-ed25519.json').tests;
    const items = vectors.map((v) => ({
      publicKey: fromHex(v.publicKey),
      message: fromHex(v.message),
      signature: fromHex(v.signature),
    }));
    expect(run(verifier, items)).toEqual({ verdicts: items.map(() => true), alone: 0 });
  });

  test('Wycheproof: the batch of each case alone holds exactly for the valid ones', () => {
    const file = readVector<WycheproofEddsaFile>('wycheproof/ed25519_test.json');
    const cases = file.testGroups.flatMap((group) =>
      group.tests.map((t) => ({ ...t, publicKey: fromHex(group.publicKey.pk) })),
    );
    expect(cases.length).toBeGreaterThan(100);
    for (const c of cases) {
      const item = { publicKey: c.publicKey, message: fromHex(c.msg), signature: fromHex(c.sig) };
      // A fallback that answers false: the verdict is the batch's own.
      const [verdict] = verifier.verifyEach([item], () => false);
      expect({ tcId: c.tcId, verdict }).toEqual({ tcId: c.tcId, verdict: c.result === 'valid' });
      expect(run(verifier, [item]).verdicts).toEqual([nodeVerify(item)]);
    }
  });

  test('any batch of good signatures under several keys holds; one bad one is found alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.uint8Array({ maxLength: 300 })), {
          minLength: 1,
          maxLength: 80,
        }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (specs, pick, bit, inSignature) => {
          const items = specs.map(([signer, message]) => signed(signer, message));
          expect(run(verifier, items)).toEqual({ verdicts: items.map(() => true), alone: 0 });
          const bad = pick % items.length;
          const target = items[bad]!;
          const bytes = inSignature ? target.signature.slice() : target.message.slice();
          if (bytes.length === 0) return;
          bytes[(bit >> 3) % bytes.length]! ^= 1 << (bit & 7);
          items[bad] = inSignature
            ? { ...target, signature: bytes }
            : { ...target, message: bytes };
          const { verdicts } = run(verifier, items);
          expect(verdicts).toEqual(items.map((_, i) => i !== bad));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a batch of 700 (wide windows) holds; a signature from another key is found alone', () => {
    const items = Array.from({ length: 700 }, (_, i) => signed(i % 2, new Uint8Array([i, i >> 8])));
    expect(run(verifier, items)).toEqual({ verdicts: items.map(() => true), alone: 0 });
    items[650] = { ...items[650]!, publicKey: items[651]!.publicKey };
    expect(run(verifier, items).verdicts).toEqual(items.map((_, i) => i !== 650));
  });

  test('signed digits: every 128-bit scalar, every window, recodes to itself', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 2, max: 10 }),
        (bytes, window) => {
          const windows = windowsOf(window);
          const digits = new Int16Array(windows);
          recode(bytes, 0, window, windows, digits, 0);
          let value = 0n;
          digits.forEach((digit, w) => {
            expect(Math.abs(digit)).toBeLessThanOrEqual(1 << (window - 1));
            value += BigInt(digit) << BigInt(w * window);
          });
          expect(value).toBe(littleEndian(bytes));
        },
      ),
      { numRuns: 500 },
    );
    // The largest scalar carries out of every window.
    for (let window = 2; window <= 10; window++) {
      const digits = new Int16Array(windowsOf(window));
      expect(() =>
        recode(new Uint8Array(16).fill(0xff), 0, window, windowsOf(window), digits, 0),
      ).not.toThrow();
    }
  });

  test('wrong lengths, S ≥ L and a small-order key are checked alone, by node:crypto', () => {
    const good = signed(0, new Uint8Array([1, 2, 3]));
    const identity = encode({ x: 0n, y: 1n });
    // With a small-order key, R = identity and S = 0 satisfy the cofactored equation for
    // any message: such a key never enters a batch.
    const smallOrder = {
      publicKey: identity,
      message: new Uint8Array([9]),
      signature: new Uint8Array([...identity, ...new Uint8Array(32)]),
    };
    const items = [
      good,
      { ...good, signature: good.signature.subarray(0, 63) },
      { ...good, publicKey: good.publicKey.subarray(0, 31) },
      smallOrder,
      {
        ...good,
        signature: new Uint8Array([...good.signature.subarray(0, 32), ...encodeScalar(L)]),
      },
    ];
    // The small-order key's verdict is node:crypto's own (OpenSSL accepts it: [0]B = R + [k]A
    // holds with both the identity), as it would be without the batch.
    expect(nodeVerify(smallOrder)).toBe(true);
    expect(run(verifier, items)).toEqual({ verdicts: [true, false, false, true, false], alone: 4 });
    expect(run(verifier, [])).toEqual({ verdicts: [], alone: 0 });
  });

  test('the one difference from node:crypto: an R with a small-order part, made with the private key', () => {
    // The cofactored equation (RFC 8032 §5.1.7) holds, the cofactorless one OpenSSL checks
    // does not: what batch.ts documents.
    const curve = new Edwards();
    curve.reserveSlots(1);
    const point = curve.pointSlot(0);
    const times = (scalar: bigint) => {
      curve.multiScalar(point, [curve.base], [scalar]);
      return curve.affine(point);
    };
    const a = 123456789123456789n;
    const r = 987654321987654321n;
    const publicKey = encode(times(a));
    const rPoint = times(r);
    // Adding the point (0, −1) of order 2 gives (−x, −y).
    const twisted = encode({ x: modP(-rPoint.x), y: modP(-rPoint.y) });
    const message = new Uint8Array([1, 2, 3]);
    const k =
      littleEndian(hash('sha512', Buffer.concat([twisted, publicKey, message]), 'buffer')) % L;
    const signature = new Uint8Array([...twisted, ...encodeScalar((r + k * a) % L)]);
    const item = { publicKey, message, signature };
    expect(nodeVerify(item)).toBe(false);
    expect(verifier.verifyEach([item], () => false)).toEqual([true]);
  });
});

function encodeScalar(value: bigint): Uint8Array {
  const bytes = new Uint8Array(32);
  let rest = value;
  for (let i = 0; i < 32; i++, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  return bytes;
}
