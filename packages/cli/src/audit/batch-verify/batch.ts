/**
 * Ed25519 batch verification, for audits of many signatures (issue 7's throughput goal).
 *
 * One signature (R, S) on M under key A holds when [8][S]B = [8]R + [8][k]A with
 * k = SHA-512(R ‖ A ‖ M) (RFC 8032 section 5.1.7, the cofactored group equation). For n
 * signatures and random 128-bit z_i, the single equation
 *   [8]( [Σ z_i·S_i]B − Σ z_i·R_i − Σ_A [Σ_{i under A} z_i·k_i]A ) = identity
 * holds when every one does, and when any does not it fails except with probability about
 * 2^−128 (Bernstein, Duif, Lange, Schwabe, Yang, "High-speed high-security signatures",
 * 2011, section 5). Σ z_i·R_i is one multi-scalar multiplication with short scalars
 * (Pippenger's buckets), so a signature costs a point decoding and some twenty point
 * additions instead of a full double-scalar multiplication: several times less work than
 * checking it alone, even in WebAssembly against OpenSSL's C.
 *
 * What a batch says: every signature in it holds under the cofactored equation, which
 * RFC 8032 requires; node:crypto (OpenSSL) checks the cofactorless [S]B = R + [k]A, which
 * RFC 8032 allows. They differ only for a signature whose R was given a small-order
 * component on purpose, something only the holder of the private key can make: such a
 * token is refused by apps (cofactorless) and counted as signed by an audit whose batch
 * held. Every encoding OpenSSL refuses (S ≥ L, a y-coordinate not below p, an R or A that
 * is not a point, x = 0 with the sign bit set) is left out of the batch and checked alone,
 * and a batch that fails is checked signature by signature, so a finding always comes
 * from node:crypto's own verdict.
 */
import { hash, randomFillSync } from 'node:crypto';
import { Edwards, L } from './edwards.js';

export interface SignedMessage {
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  /** 64 bytes: R then S. */
  readonly signature: Uint8Array;
}

const KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
const Z_BYTES = 16;

/**
 * The window (bits per signed digit) that makes the bucket sum cheapest for n points: per
 * window, n additions of a Niels point (7 multiplications) and two per bucket for the
 * running sums (9 each).
 */
function windowFor(count: number): number {
  let best = 4;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let window = 2; window <= 10; window++) {
    const cost = windowsOf(window) * (7 * count + 9 * 2 ** window);
    if (cost < bestCost) [best, bestCost] = [window, cost];
  }
  return best;
}

/** Signed digits of `window` bits needed for a 128-bit scalar (recode's carry out included). */
export function windowsOf(window: number): number {
  return Math.floor(128 / window) + (128 % window >= window - 1 ? 2 : 1);
}

/**
 * Writes the 16-byte little-endian scalar at bytes[offset…] as `windows` signed digits in
 * [−2^(window−1), 2^(window−1)] into digits[at…] (lowest first): each window's value plus
 * the carry, less 2^window (carrying 1) when it reaches half of that.
 */
export function recode(
  bytes: Uint8Array,
  offset: number,
  window: number,
  windows: number,
  digits: Int16Array,
  at: number,
): void {
  const half = 1 << (window - 1);
  const mask = (1 << window) - 1;
  let carry = 0;
  for (let w = 0; w < windows; w++) {
    const bit = w * window;
    const byte = offset + (bit >> 3);
    const end = offset + Z_BYTES;
    let word = byte < end ? bytes[byte]! : 0;
    if (byte + 1 < end) word |= bytes[byte + 1]! << 8;
    if (byte + 2 < end) word |= bytes[byte + 2]! << 16;
    let value = ((word >>> (bit & 7)) & mask) + carry;
    carry = 0;
    if (value >= half) {
      value -= 1 << window;
      carry = 1;
    }
    digits[at + w] = value;
  }
  if (carry !== 0) throw new Error('recode: the scalar needs another window');
}

/** A little-endian unsigned integer from bytes[start, end). */
function littleEndian(bytes: Uint8Array, start: number, end: number): bigint {
  let hex = '';
  for (let i = end - 1; i >= start; i--) hex += HEX[bytes[i]!];
  return BigInt(`0x${hex}`);
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class BatchVerifier {
  readonly #curve = new Edwards();

  /**
   * The verdict on each signature: true when it verifies. The batch is checked at once;
   * signatures left out of it (encodings refused) and all of a failed batch are checked one
   * by one with `verifyOne` (node:crypto in the audit's workers).
   */
  verifyEach(
    items: readonly SignedMessage[],
    verifyOne: (item: SignedMessage, index: number) => boolean,
  ): boolean[] {
    const verdicts = new Array<boolean>(items.length);
    const batched = this.#tryBatch(items);
    if (batched.held) {
      for (let i = 0; i < items.length; i++) {
        verdicts[i] = batched.refused.has(i) ? verifyOne(items[i]!, i) : true;
      }
    } else {
      for (let i = 0; i < items.length; i++) verdicts[i] = verifyOne(items[i]!, i);
    }
    return verdicts;
  }

  /** Whether the batch equation holds for every item not refused (the refused ones listed). */
  #tryBatch(items: readonly SignedMessage[]): { held: boolean; refused: Set<number> } {
    const curve = this.#curve;
    const refused = new Set<number>();
    const n = items.length;
    // Each item's key, as an index into keyEncodings (-1: not 32 bytes).
    const keys = new Map<string, number>();
    const keyEncodings: Uint8Array[] = [];
    const keyOf = new Int32Array(n).fill(-1);
    items.forEach(({ publicKey }, i) => {
      if (publicKey.length !== KEY_LENGTH) return;
      const id = keyId(publicKey);
      let k = keys.get(id);
      if (k === undefined) {
        k = keyEncodings.push(publicKey) - 1;
        keys.set(id, k);
      }
      keyOf[i] = k;
    });
    const keyCount = keyEncodings.length;
    const window = windowFor(n);
    const windows = windowsOf(window);
    const keySlot = n;
    const sumSlot = n + keyCount;
    const totalSlot = sumSlot + 1;
    const bucketSlot = totalSlot + 1;
    curve.reserveSlots(bucketSlot + (1 << (window - 1)));

    // A key of small order would make [8][k]A vanish whatever the message: checked alone.
    const keyUsable: boolean[] = [];
    const scratch = curve.pointSlot(totalSlot);
    for (let k = 0; k < keyCount; k++) {
      const slot = curve.pointSlot(keySlot + k);
      let usable = curve.decode(slot, keyEncodings[k]!);
      if (usable) {
        curve.copyPoint(scratch, slot);
        usable = !curve.isSmallOrder(scratch);
      }
      if (usable) curve.negate(slot, slot);
      keyUsable.push(usable);
    }

    const z = new Uint8Array(Z_BYTES * n);
    randomFillSync(z);
    const points: number[] = [];
    const digits = new Int16Array(windows * n);
    let sSum = 0n;
    const kSums = new Array<bigint>(keyCount).fill(0n);
    for (let i = 0; i < n; i++) {
      const { publicKey, message, signature } = items[i]!;
      const k = keyOf[i]!;
      if (k === -1 || !keyUsable[k] || signature.length !== SIGNATURE_LENGTH) {
        refused.add(i);
        continue;
      }
      const s = littleEndian(signature, 32, 64);
      const r = signature.subarray(0, 32);
      const slot = curve.pointSlot(points.length);
      if (s >= L || !curve.decode(slot, r)) {
        refused.add(i);
        continue;
      }
      const input = new Uint8Array(64 + message.length);
      input.set(r, 0);
      input.set(publicKey, 32);
      input.set(message, 64);
      const challenge = littleEndian(hash('sha512', input, 'buffer'), 0, 64);
      const zi = littleEndian(z, Z_BYTES * i, Z_BYTES * (i + 1));
      recode(z, Z_BYTES * i, window, windows, digits, windows * points.length);
      curve.toNiels(slot);
      points.push(slot);
      sSum += zi * s;
      kSums[k] = kSums[k]! + zi * challenge;
    }
    if (points.length === 0) return { held: true, refused };

    // total = [Σ z·S]B + Σ_A [Σ z·k](−A) − Σ z·R, which must be of small order.
    const sum = curve.pointSlot(sumSlot);
    const total = curve.pointSlot(totalSlot);
    curve.bucketSum(sum, points, digits, windows, window, bucketSlot);
    const fixedPoints = [curve.base];
    const fixedScalars = [sSum % L];
    for (let k = 0; k < keyCount; k++) {
      if (!keyUsable[k]) continue;
      fixedPoints.push(curve.pointSlot(keySlot + k));
      fixedScalars.push(kSums[k]! % L);
    }
    curve.multiScalar(total, fixedPoints, fixedScalars);
    curve.negate(sum, sum);
    curve.add(total, total, sum);
    return { held: curve.isSmallOrder(total), refused };
  }
}

function keyId(key: Uint8Array): string {
  let id = '';
  for (let i = 0; i < key.length; i++) id += String.fromCharCode(key[i]!);
  return id;
}
