/**
 * SHA-256 (FIPS 180-4 §6.2), synchronous and portable. The platform hash (node:crypto,
 * `crypto.subtle`) stays the one for token hashes; this one exists because decoding is
 * synchronous: a license that embeds its issuer certificate carries no `kid` (the
 * certificate names the key), and the decoder derives that kid, an RFC 7638 thumbprint,
 * on the spot. It is also the portable fallback where `crypto.subtle` is missing
 * (insecure origins), so no hashing library ships with the verifier.
 */

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes; §5.3.3: of the square roots of the first 8. Derived, not transcribed, so
// no constant can carry a typo: the tests compare whole digests with node:crypto's.
function fractionBits(root: (prime: number) => number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let candidate = 2, found = 0; found < count; candidate++) {
    let prime = true;
    for (let divisor = 2; divisor * divisor <= candidate; divisor++) {
      if (candidate % divisor === 0) prime = false;
    }
    if (!prime) continue;
    const value = root(candidate);
    // Float64 keeps 52 fraction bits; for roots below 2^8 at least 44 of them are exact.
    out[found++] = (value - Math.floor(value)) * 2 ** 32;
  }
  return out;
}

const K = fractionBits(Math.cbrt, 64);
const H0 = fractionBits(Math.sqrt, 8);
const W = new Uint32Array(64);

function compress(state: Uint32Array, block: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t++) {
    const i = offset + t * 4;
    W[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!;
    const w2 = W[t - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = W[t - 16]! + s0 + W[t - 7]! + s1;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t]! + W[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = state[0]! + a;
  state[1] = state[1]! + b;
  state[2] = state[2]! + c;
  state[3] = state[3]! + d;
  state[4] = state[4]! + e;
  state[5] = state[5]! + f;
  state[6] = state[6]! + g;
  state[7] = state[7]! + h;
}

/** The SHA-256 digest of `data` (32 bytes). */
export function sha256Sync(data: Uint8Array): Uint8Array {
  const state = H0.slice();
  const whole = data.length - (data.length % 64);
  for (let offset = 0; offset < whole; offset += 64) compress(state, data, offset);
  // §5.1.1 padding: 0x80, zeros, then the length in bits as a 64-bit big-endian integer.
  const tail = new Uint8Array(data.length % 64 < 56 ? 64 : 128);
  tail.set(data.subarray(whole));
  tail[data.length - whole] = 0x80;
  const bits = data.length * 8;
  const view = new DataView(tail.buffer);
  view.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(tail.length - 4, bits >>> 0);
  for (let offset = 0; offset < tail.length; offset += 64) compress(state, tail, offset);
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, state[i]!);
  return out;
}
