/**
 * Arithmetic modulo p = 2^255 − 19 and point addition on edwards25519, as a WebAssembly
 * module generated here (wasm-assembler.ts). An element is ten signed 64-bit limbs in radix
 * 2^25.5 (limb i weighs 2^⌈25.5·i⌉: 26 bits for even i, 25 for odd), the representation of
 * the Ed25519 paper's reference code, because WebAssembly multiplies 64 by 64 bits into 64:
 * a product of two limbs, times 38 at most, summed ten times, stays below 2^63.
 *
 * Every function takes byte addresses in the module's memory. A field element is 80 bytes;
 * a point is four of them in extended coordinates (X, Y, Z, T with x = X/Z, y = Y/Z,
 * T = XY/Z), 320 bytes. Outputs may be the same address as inputs.
 */
import { assembleModule, FunctionBody, I32, I64, Op } from './wasm-assembler.js';

export const LIMBS = 10;
export const ELEMENT_BYTES = LIMBS * 8;
export const POINT_BYTES = 4 * ELEMENT_BYTES;
/** Point coordinates' byte offsets within a point. */
export const X = 0;
export const Y = ELEMENT_BYTES;
export const Z = 2 * ELEMENT_BYTES;
export const T = 3 * ELEMENT_BYTES;

/** Where point_add keeps its temporaries, and where the caller must write 2·d. */
const SCRATCH = 0;
export const TWO_D_ADDRESS = 1024;
/** The first byte the caller may use freely. */
export const FREE_ADDRESS = 2048;

export const limbBits = (index: number): number => (index % 2 === 0 ? 26 : 25);
const limbStart = (index: number): number => Math.ceil(25.5 * index);

/** Function indices, in the order the module lists them. */
const FE_MUL = 0;
const FE_ADD = 1;
const FE_SUB = 2;
const FE_SQ = 7;

/**
 * Emits the carry of limbs held in locals h[0..9]: each limb keeps its low bits (a floor
 * shift, so negative limbs carry −1s up), the top limb's carry wraps to limb 0 times 19
 * (2^255 ≡ 19), and limb 0 carries once more.
 */
function emitCarry(fn: FunctionBody, h: readonly number[], carry: number): void {
  const step = (from: number, to: number, times: number) => {
    const bits = limbBits(from);
    fn.get(h[from]).i64(bits).op(Op.i64ShrS).set(carry);
    fn.get(h[from])
      .i64((1n << BigInt(bits)) - 1n)
      .op(Op.i64And)
      .set(h[from]);
    fn.get(h[to]).get(carry);
    if (times !== 1) fn.i64(times).op(Op.i64Mul);
    fn.op(Op.i64Add).set(h[to]);
  };
  for (let i = 0; i < LIMBS - 1; i++) step(i, i + 1, 1);
  step(LIMBS - 1, 0, 19);
  step(0, 1, 1);
}

function loadLimbs(fn: FunctionBody, address: number, into: readonly number[]): void {
  for (let i = 0; i < LIMBS; i++)
    fn.get(address)
      .load64(8 * i)
      .set(into[i]);
}

function storeLimbs(fn: FunctionBody, address: number, from: readonly number[]): void {
  for (let i = 0; i < LIMBS; i++)
    fn.get(address)
      .get(from[i])
      .store64(8 * i);
}

function locals(fn: FunctionBody, count: number): number[] {
  return Array.from({ length: count }, () => fn.local(I64));
}

/** fe_mul(h, f, g): h = f·g. */
function feMul(): FunctionBody {
  const fn = new FunctionBody([I32, I32, I32], 'fe_mul');
  const [h, f, g] = [0, 1, 2];
  const fl = locals(fn, LIMBS);
  const gl = locals(fn, LIMBS);
  const g19 = locals(fn, LIMBS);
  const f2 = locals(fn, LIMBS);
  const hl = locals(fn, LIMBS);
  const carry = fn.local(I64);
  loadLimbs(fn, f, fl);
  loadLimbs(fn, g, gl);
  for (let j = 1; j < LIMBS; j++) fn.get(gl[j]).i64(19).op(Op.i64Mul).set(g19[j]);
  for (let i = 1; i < LIMBS; i += 2) fn.get(fl[i]).get(fl[i]).op(Op.i64Add).set(f2[i]);
  for (let k = 0; k < LIMBS; k++) {
    for (let i = 0; i < LIMBS; i++) {
      const wraps = k - i < 0;
      const j = wraps ? k - i + LIMBS : k - i;
      // Two odd limbs' weights sum to one more than the product's limb weight.
      fn.get(i % 2 === 1 && j % 2 === 1 ? f2[i] : fl[i]);
      fn.get(wraps ? g19[j] : gl[j]);
      fn.op(Op.i64Mul);
      if (i > 0) fn.op(Op.i64Add);
    }
    fn.set(hl[k]);
  }
  emitCarry(fn, hl, carry);
  storeLimbs(fn, h, hl);
  return fn;
}

/**
 * fe_sq(h, f): h = f². Each product f_i·f_j with i < j appears twice, so it is taken once
 * with its coefficient: 2 for the pair, 2 more when both limbs are odd (their weights sum
 * to one more than the product's limb), 19 when it wraps past 2^255. The coefficient is
 * split between the two factors' precomputed multiples (1 or 2 on the left, 1, 2, 19 or 38
 * on the right): 55 multiplications instead of 100.
 */
function feSquare(): FunctionBody {
  const fn = new FunctionBody([I32, I32], 'fe_sq');
  const fl = locals(fn, LIMBS);
  const f2 = locals(fn, LIMBS);
  const f19 = locals(fn, LIMBS);
  const f38 = locals(fn, LIMBS);
  const hl = locals(fn, LIMBS);
  const carry = fn.local(I64);
  loadLimbs(fn, 1, fl);
  for (let i = 0; i < LIMBS; i++) {
    fn.get(fl[i]).get(fl[i]).op(Op.i64Add).set(f2[i]);
    fn.get(fl[i]).i64(19).op(Op.i64Mul).set(f19[i]);
    fn.get(f19[i]).get(f19[i]).op(Op.i64Add).set(f38[i]);
  }
  const right = (j: number, factor: number) =>
    factor === 1 ? fl[j] : factor === 2 ? f2[j] : factor === 19 ? f19[j] : f38[j];
  for (let k = 0; k < LIMBS; k++) {
    let terms = 0;
    for (let i = 0; i < LIMBS; i++) {
      const wraps = k - i < 0;
      const j = wraps ? k - i + LIMBS : k - i;
      if (j < i) continue;
      let coefficient = (i === j ? 1 : 2) * (i % 2 === 1 && j % 2 === 1 ? 2 : 1);
      coefficient *= wraps ? 19 : 1;
      const leftTwo = coefficient % 2 === 0 && coefficient !== 2 && coefficient !== 38;
      fn.get(leftTwo ? f2[i] : fl[i]);
      fn.get(right(j, leftTwo ? coefficient / 2 : coefficient));
      fn.op(Op.i64Mul);
      if (terms++ > 0) fn.op(Op.i64Add);
    }
    fn.set(hl[k]);
  }
  emitCarry(fn, hl, carry);
  storeLimbs(fn, 0, hl);
  return fn;
}

/** fe_add(h, f, g) and fe_sub(h, f, g), carried. */
function feAddSub(exportName: string, op: number): FunctionBody {
  const fn = new FunctionBody([I32, I32, I32], exportName);
  const hl = locals(fn, LIMBS);
  const carry = fn.local(I64);
  for (let i = 0; i < LIMBS; i++)
    fn.get(1)
      .load64(8 * i)
      .get(2)
      .load64(8 * i)
      .op(op)
      .set(hl[i]);
  emitCarry(fn, hl, carry);
  storeLimbs(fn, 0, hl);
  return fn;
}

/** fe_sqn(h, f, n): h = f^(2^n), n ≥ 1. */
function feSquareTimes(): FunctionBody {
  const fn = new FunctionBody([I32, I32, I32], 'fe_sqn');
  const [h, f, n] = [0, 1, 2];
  fn.get(h).get(f).call(FE_SQ);
  fn.block().loop();
  fn.get(n).i32(1).op(Op.i32Sub).tee(n);
  fn.op(Op.i32Eqz).op(Op.brIf, 1);
  fn.get(h).get(h).call(FE_SQ);
  fn.op(Op.br, 0);
  fn.op(Op.end).op(Op.end);
  return fn;
}

/**
 * fe_canon(h, f): the unique limbs of f mod p, each in [0, 2^bits): the reference code's
 * final reduction (compute q = ⌊(f + 19)/2^255⌋, add 19q, drop bit 255).
 */
function feCanon(): FunctionBody {
  const fn = new FunctionBody([I32, I32], 'fe_canon');
  const hl = locals(fn, LIMBS);
  const carry = fn.local(I64);
  const q = fn.local(I64);
  loadLimbs(fn, 1, hl);
  emitCarry(fn, hl, carry);
  fn.get(hl[9])
    .i64(19)
    .op(Op.i64Mul)
    .i64(1 << 24)
    .op(Op.i64Add)
    .i64(25)
    .op(Op.i64ShrS)
    .set(q);
  for (let i = 0; i < LIMBS; i++) {
    fn.get(hl[i]).get(q).op(Op.i64Add).i64(limbBits(i)).op(Op.i64ShrS).set(q);
  }
  fn.get(hl[0]).get(q).i64(19).op(Op.i64Mul).op(Op.i64Add).set(hl[0]);
  for (let i = 0; i < LIMBS; i++) {
    const bits = limbBits(i);
    if (i < LIMBS - 1) {
      fn.get(hl[i + 1])
        .get(hl[i])
        .i64(bits)
        .op(Op.i64ShrS)
        .op(Op.i64Add)
        .set(hl[i + 1]);
    }
    fn.get(hl[i])
      .i64((1n << BigInt(bits)) - 1n)
      .op(Op.i64And)
      .set(hl[i]);
  }
  storeLimbs(fn, 0, hl);
  return fn;
}

/**
 * fe_frombytes(h, s): the 255 low bits of the 32 little-endian bytes at s (bit 255, the
 * sign of x in an encoded point, is dropped). Reads up to 3 bytes past the 32 (masked off).
 */
function feFromBytes(): FunctionBody {
  const fn = new FunctionBody([I32, I32], 'fe_frombytes');
  for (let i = 0; i < LIMBS; i++) {
    const start = limbStart(i);
    fn.get(0);
    fn.get(1).load64(start >> 3);
    fn.i64(start & 7).op(Op.i64ShrU);
    fn.i64((1n << BigInt(limbBits(i))) - 1n).op(Op.i64And);
    fn.store64(8 * i);
  }
  return fn;
}

/** point_add's temporaries, in the scratch area. */
const [A, B, C, D, E, F, G, H, T1, T2] = Array.from(
  { length: 10 },
  (_, n) => SCRATCH + n * ELEMENT_BYTES,
) as [number, number, number, number, number, number, number, number, number, number];

/** An address argument: a constant, or a parameter plus an offset. */
type Arg = number | readonly [number, number];

/** Emits `index(out, left, right)` in fn. */
function caller(fn: FunctionBody) {
  const arg = (a: Arg) => {
    if (typeof a === 'number') fn.i32(a);
    else fn.get(a[0]).i32(a[1]).op(Op.i32Add);
  };
  return (index: number, out: Arg, left: Arg, right: Arg) => {
    arg(out);
    arg(left);
    arg(right);
    fn.call(index);
  };
}

/**
 * The end every addition shares, from A = (Y1−X1)(Y2−X2), B = (Y1+X1)(Y2+X2),
 * C = 2d·T1·T2 and D = 2·Z1·Z2 in scratch: E = B − A, F = D − C, G = D + C, H = B + A,
 * r = (E·F, G·H, F·G, E·H). A subtraction (C of −q) swaps F and G.
 */
function emitAdditionEnd(call: ReturnType<typeof caller>, r: number, subtract: boolean): void {
  call(FE_SUB, E, B, A);
  call(subtract ? FE_ADD : FE_SUB, F, D, C);
  call(subtract ? FE_SUB : FE_ADD, G, D, C);
  call(FE_ADD, H, B, A);
  call(FE_MUL, [r, X], E, F);
  call(FE_MUL, [r, Y], G, H);
  call(FE_MUL, [r, T], E, H);
  call(FE_MUL, [r, Z], F, G);
}

/**
 * point_add(r, p, q): r = p + q with the unified addition of Hisil, Wong, Carter and Dawson
 * (2008) for a = −1 ("add-2008-hwcd-3"), complete on edwards25519 (−1 a square, d not), so
 * it also doubles and adds the identity.
 */
function pointAdd(): FunctionBody {
  const fn = new FunctionBody([I32, I32, I32], 'point_add');
  const [r, p, q] = [0, 1, 2];
  const call = caller(fn);
  call(FE_SUB, T1, [p, Y], [p, X]);
  call(FE_SUB, T2, [q, Y], [q, X]);
  call(FE_MUL, A, T1, T2);
  call(FE_ADD, T1, [p, Y], [p, X]);
  call(FE_ADD, T2, [q, Y], [q, X]);
  call(FE_MUL, B, T1, T2);
  call(FE_MUL, C, [p, T], [q, T]);
  call(FE_MUL, C, C, TWO_D_ADDRESS);
  call(FE_MUL, D, [p, Z], [q, Z]);
  call(FE_ADD, D, D, D);
  emitAdditionEnd(call, r, false);
  return fn;
}

/**
 * A point in the "Niels" form of an affine point (Z = 1) for additions into it: y + x,
 * y − x and 2d·x·y, at these offsets of a point's slot.
 */
export const NIELS_Y_PLUS_X = 0;
export const NIELS_Y_MINUS_X = ELEMENT_BYTES;
export const NIELS_T2D = 2 * ELEMENT_BYTES;

/**
 * point_add_niels(r, p, q) and point_sub_niels(r, p, q): r = p ± q for q in Niels form, the
 * same unified addition with q's products precomputed and Z2 = 1: 7 multiplications
 * instead of 9. Subtracting swaps q's y + x and y − x and negates its 2d·x·y (−q = (−x, y)).
 */
function pointAddNiels(exportName: string, subtract: boolean): FunctionBody {
  const fn = new FunctionBody([I32, I32, I32], exportName);
  const [r, p, q] = [0, 1, 2];
  const call = caller(fn);
  const plus = subtract ? NIELS_Y_MINUS_X : NIELS_Y_PLUS_X;
  const minus = subtract ? NIELS_Y_PLUS_X : NIELS_Y_MINUS_X;
  call(FE_SUB, T1, [p, Y], [p, X]);
  call(FE_MUL, A, T1, [q, minus]);
  call(FE_ADD, T1, [p, Y], [p, X]);
  call(FE_MUL, B, T1, [q, plus]);
  call(FE_MUL, C, [p, T], [q, NIELS_T2D]);
  call(FE_ADD, D, [p, Z], [p, Z]);
  emitAdditionEnd(call, r, subtract);
  return fn;
}

/** The module's bytes; its memory starts at `pages` × 64 KiB. */
export function fieldModuleBytes(pages: number): Uint8Array {
  return assembleModule(
    [
      feMul(),
      feAddSub('fe_add', Op.i64Add),
      feAddSub('fe_sub', Op.i64Sub),
      feSquareTimes(),
      feCanon(),
      feFromBytes(),
      pointAdd(),
      feSquare(),
      pointAddNiels('point_add_niels', false),
      pointAddNiels('point_sub_niels', true),
    ],
    pages,
  );
}
