/**
 * edwards25519 over the generated field module (field-module.ts): constants, point decoding
 * (RFC 8032 section 5.1.3), multi-scalar multiplication and the identity test, for the
 * batch verifier. Points live in the module's memory at addresses this class hands out.
 */
import {
  ELEMENT_BYTES,
  FREE_ADDRESS,
  fieldModuleBytes,
  LIMBS,
  limbBits,
  NIELS_T2D,
  NIELS_Y_MINUS_X,
  NIELS_Y_PLUS_X,
  POINT_BYTES,
  T,
  TWO_D_ADDRESS,
  X,
  Y,
  Z,
} from './field-module.js';

export const P = (1n << 255n) - 19n;
/** The order of the prime-order subgroup (RFC 8032 section 5.1). */
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
const BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
const BASE_Y = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;

interface FieldExports {
  readonly memory: WebAssembly.Memory;
  fe_mul(h: number, f: number, g: number): void;
  fe_add(h: number, f: number, g: number): void;
  fe_sub(h: number, f: number, g: number): void;
  fe_sq(h: number, f: number): void;
  fe_sqn(h: number, f: number, n: number): void;
  fe_canon(h: number, f: number): void;
  fe_frombytes(h: number, s: number): void;
  point_add(r: number, p: number, q: number): void;
  point_add_niels(r: number, p: number, q: number): void;
  point_sub_niels(r: number, p: number, q: number): void;
}

const PAGE = 65536;
const INITIAL_PAGES = 4;

/** Fixed addresses after FREE_ADDRESS: constants, temporaries, the encoded-bytes slot. */
const fixed = (n: number) => FREE_ADDRESS + n * ELEMENT_BYTES;
const ONE = fixed(0);
const ZERO = fixed(1);
const CURVE_D = fixed(2);
const SQRT_MINUS_ONE = fixed(3);
const U = fixed(4);
const V = fixed(5);
const T0 = fixed(6);
const T1 = fixed(7);
const T2 = fixed(8);
const CHECK = fixed(9);
const BYTES = fixed(10);
const POW0 = fixed(11);
const POW1 = fixed(12);
const POW2 = fixed(13);
const CANON = fixed(14);
/** Points from here: the base point, the accumulator and a temporary, then the caller's. */
const BASE = fixed(16);
const ACC = BASE + POINT_BYTES;
const TMP_POINT = ACC + POINT_BYTES;
const FIRST_FREE_POINT = TMP_POINT + POINT_BYTES;

export class Edwards {
  readonly #fe: FieldExports;
  #words: Int32Array;
  #bytes: Uint8Array;

  constructor() {
    const module = new WebAssembly.Module(
      fieldModuleBytes(INITIAL_PAGES) as Uint8Array<ArrayBuffer>,
    );
    this.#fe = new WebAssembly.Instance(module).exports as unknown as FieldExports;
    this.#words = new Int32Array(this.#fe.memory.buffer);
    this.#bytes = new Uint8Array(this.#fe.memory.buffer);
    this.#setElement(ONE, 1n);
    this.#setElement(ZERO, 0n);
    this.#setElement(CURVE_D, D);
    this.#setElement(TWO_D_ADDRESS, (2n * D) % P);
    this.#setElement(SQRT_MINUS_ONE, SQRT_M1);
    this.#setElement(BASE + X, BASE_X);
    this.#setElement(BASE + Y, BASE_Y);
    this.#setElement(BASE + Z, 1n);
    this.#setElement(BASE + T, (BASE_X * BASE_Y) % P);
  }

  /** The address of point slot `index` (0, 1, …); reserveSlots makes room for them. */
  pointSlot(index: number): number {
    return FIRST_FREE_POINT + index * POINT_BYTES;
  }

  reserveSlots(count: number): void {
    const needed = FIRST_FREE_POINT + count * POINT_BYTES;
    const have = this.#fe.memory.buffer.byteLength;
    if (needed <= have) return;
    this.#fe.memory.grow(Math.ceil((needed - have) / PAGE));
    this.#words = new Int32Array(this.#fe.memory.buffer);
    this.#bytes = new Uint8Array(this.#fe.memory.buffer);
  }

  get base(): number {
    return BASE;
  }

  setIdentity(point: number): void {
    this.#copy(point + X, ZERO);
    this.#copy(point + Y, ONE);
    this.#copy(point + Z, ONE);
    this.#copy(point + T, ZERO);
  }

  copyPoint(to: number, from: number): void {
    this.#bytes.copyWithin(to, from, from + POINT_BYTES);
  }

  add(r: number, p: number, q: number): void {
    this.#fe.point_add(r, p, q);
  }

  negate(r: number, p: number): void {
    this.#fe.fe_sub(r + X, ZERO, p + X);
    this.#copy(r + Y, p + Y);
    this.#copy(r + Z, p + Z);
    this.#fe.fe_sub(r + T, ZERO, p + T);
  }

  /**
   * Decodes a 32-byte point encoding into `point` (RFC 8032 section 5.1.3): false when the
   * y-coordinate is not below p, no x exists, or x = 0 with the sign bit set.
   */
  decode(point: number, encoded: Uint8Array): boolean {
    if (!isCanonicalY(encoded)) return false;
    const fe = this.#fe;
    this.#bytes.set(encoded, BYTES);
    fe.fe_frombytes(point + Y, BYTES);
    this.#copy(point + Z, ONE);
    const x = point + X;
    // u = y² − 1, v = d·y² + 1; x = u·v³·(u·v⁷)^((p−5)/8).
    fe.fe_sq(U, point + Y);
    fe.fe_mul(V, U, CURVE_D);
    fe.fe_sub(U, U, ONE);
    fe.fe_add(V, V, ONE);
    fe.fe_sq(T0, V);
    fe.fe_mul(T0, T0, V); // v³
    fe.fe_sq(T1, T0);
    fe.fe_mul(T1, T1, V); // v⁷
    fe.fe_mul(T1, T1, U); // u·v⁷
    this.#pow22523(T2, T1);
    fe.fe_mul(x, T2, U);
    fe.fe_mul(x, x, T0);
    // v·x² against u and −u.
    fe.fe_sq(CHECK, x);
    fe.fe_mul(CHECK, CHECK, V);
    fe.fe_sub(T0, CHECK, U);
    if (!this.#isZero(T0)) {
      fe.fe_add(T0, CHECK, U);
      if (!this.#isZero(T0)) return false;
      fe.fe_mul(x, x, SQRT_MINUS_ONE);
    }
    fe.fe_canon(x, x);
    const sign = encoded[31]! >> 7;
    const xIsZero = this.#isCanonicalZero(x);
    if (xIsZero && sign === 1) return false;
    if ((this.#words[x >> 2]! & 1) !== sign) fe.fe_sub(x, ZERO, x);
    fe.fe_mul(point + T, x, point + Y);
    return true;
  }

  /**
   * acc = Σ scalars[i]·points[i] by double-and-add over the bits, one doubling per bit for
   * all (Straus without windows): for the few points with full-size scalars.
   */
  multiScalar(out: number, points: readonly number[], scalars: readonly bigint[]): void {
    let top = 0;
    for (const scalar of scalars) top = Math.max(top, bitLength(scalar));
    this.setIdentity(out);
    for (let bit = top - 1; bit >= 0; bit--) {
      this.add(out, out, out);
      for (let i = 0; i < points.length; i++) {
        if ((scalars[i]! >> BigInt(bit)) & 1n) this.add(out, out, points[i]!);
      }
    }
  }

  /**
   * Turns the affine point (Z = 1, as decode leaves it) in `point` into its Niels form
   * (y + x, y − x, 2d·x·y), in place, for bucketSum.
   */
  toNiels(point: number): void {
    const fe = this.#fe;
    fe.fe_add(T0, point + Y, point + X);
    fe.fe_sub(T1, point + Y, point + X);
    fe.fe_mul(point + NIELS_T2D, point + T, TWO_D_ADDRESS);
    this.#copy(point + NIELS_Y_PLUS_X, T0);
    this.#copy(point + NIELS_Y_MINUS_X, T1);
  }

  /**
   * out = Σ z_i·points[i], points in Niels form (toNiels), each z_i given as `windows`
   * signed digits of `window` bits, digit w of point i at digits[i·windows + w] (lowest
   * first), in [−2^(window−1), 2^(window−1)]: Pippenger's bucket method, a negative digit
   * subtracting the point from its bucket, so half the buckets of unsigned digits. Uses
   * the slots from `bucketSlot` on for 2^(window−1) buckets.
   */
  bucketSum(
    out: number,
    points: readonly number[],
    digits: Int16Array,
    windows: number,
    window: number,
    bucketSlot: number,
  ): void {
    const fe = this.#fe;
    const buckets = 1 << (window - 1);
    const bucket = (digit: number) => this.pointSlot(bucketSlot + digit - 1);
    this.setIdentity(out);
    for (let w = windows - 1; w >= 0; w--) {
      if (w < windows - 1) for (let i = 0; i < window; i++) fe.point_add(out, out, out);
      for (let digit = 1; digit <= buckets; digit++) this.setIdentity(bucket(digit));
      for (let i = 0; i < points.length; i++) {
        const digit = digits[i * windows + w]!;
        if (digit > 0) fe.point_add_niels(bucket(digit), bucket(digit), points[i]!);
        else if (digit < 0) fe.point_sub_niels(bucket(-digit), bucket(-digit), points[i]!);
      }
      // Σ digit·bucket[digit] as running sums from the top digit down.
      this.setIdentity(ACC);
      this.setIdentity(TMP_POINT);
      for (let digit = buckets; digit >= 1; digit--) {
        fe.point_add(ACC, ACC, bucket(digit));
        fe.point_add(TMP_POINT, TMP_POINT, ACC);
      }
      fe.point_add(out, out, TMP_POINT);
    }
  }

  /** Whether 8·point is the identity (X = 0 and Y = Z). */
  isSmallOrder(point: number): boolean {
    const fe = this.#fe;
    for (let i = 0; i < 3; i++) fe.point_add(point, point, point);
    if (!this.#isZero(point + X)) return false;
    fe.fe_sub(T0, point + Y, point + Z);
    return this.#isZero(T0);
  }

  /** For tests: the affine coordinates of a point, as integers mod p. */
  affine(point: number): { x: bigint; y: bigint } {
    const z = this.#element(point + Z);
    const inverse = modPow(z, P - 2n);
    return {
      x: (this.#element(point + X) * inverse) % P,
      y: (this.#element(point + Y) * inverse) % P,
    };
  }

  /** z^((p−5)/8) = z^(2^252 − 3), the reference code's addition chain. */
  #pow22523(out: number, z: number): void {
    const fe = this.#fe;
    const [t0, t1, t2] = [POW0, POW1, POW2];
    fe.fe_sq(t0, z);
    fe.fe_sqn(t1, t0, 2);
    fe.fe_mul(t1, z, t1);
    fe.fe_mul(t0, t0, t1);
    fe.fe_sq(t0, t0);
    fe.fe_mul(t0, t1, t0); // z^(2^5 − 1)
    fe.fe_sqn(t1, t0, 5);
    fe.fe_mul(t0, t1, t0); // z^(2^10 − 1)
    fe.fe_sqn(t1, t0, 10);
    fe.fe_mul(t1, t1, t0); // z^(2^20 − 1)
    fe.fe_sqn(t2, t1, 20);
    fe.fe_mul(t1, t2, t1); // z^(2^40 − 1)
    fe.fe_sqn(t1, t1, 10);
    fe.fe_mul(t0, t1, t0); // z^(2^50 − 1)
    fe.fe_sqn(t1, t0, 50);
    fe.fe_mul(t1, t1, t0); // z^(2^100 − 1)
    fe.fe_sqn(t2, t1, 100);
    fe.fe_mul(t1, t2, t1); // z^(2^200 − 1)
    fe.fe_sqn(t1, t1, 50);
    fe.fe_mul(t0, t1, t0); // z^(2^250 − 1)
    fe.fe_sqn(t0, t0, 2);
    fe.fe_mul(out, t0, z);
  }

  #isZero(element: number): boolean {
    this.#fe.fe_canon(CANON, element);
    return this.#isCanonicalZero(CANON);
  }

  /** Canonical limbs are below 2^26: their low 32-bit words say it all. */
  #isCanonicalZero(element: number): boolean {
    const words = this.#words;
    for (let i = 0; i < LIMBS; i++) if (words[(element >> 2) + 2 * i] !== 0) return false;
    return true;
  }

  #copy(to: number, from: number): void {
    this.#bytes.copyWithin(to, from, from + ELEMENT_BYTES);
  }

  #setElement(address: number, value: bigint): void {
    const limbs = new BigInt64Array(this.#fe.memory.buffer, address, LIMBS);
    let rest = value;
    for (let i = 0; i < LIMBS; i++) {
      const bits = BigInt(limbBits(i));
      limbs[i] = rest & ((1n << bits) - 1n);
      rest >>= bits;
    }
  }

  #element(address: number): bigint {
    const limbs = new BigInt64Array(this.#fe.memory.buffer, address, LIMBS);
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < LIMBS; i++) {
      value += limbs[i]! << shift;
      shift += BigInt(limbBits(i));
    }
    return ((value % P) + P) % P;
  }
}

/** Whether the 255-bit y of an encoding is below p (it is not when it is p … 2^255 − 1). */
function isCanonicalY(encoded: Uint8Array): boolean {
  if ((encoded[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true;
  return encoded[0]! < 0xed;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
