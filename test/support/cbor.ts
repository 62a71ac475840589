/**
 * Hand-built CBOR for hostile inputs: heads in any width (so non-shortest forms can be
 * written on purpose), byte concatenation and hex. The project's encoder (cbor-x) only
 * writes preferred serialization, so tests that need anything else build it here.
 */

/** Width of a head's argument in bytes: 0 = in the initial byte (values below 24). */
export type ArgumentWidth = 0 | 1 | 2 | 4 | 8;

/**
 * The head of a CBOR item of major type `major` with argument `value`, in `width` bytes
 * (default: the shortest form, RFC 8949 §4.2.1). `value` may be a bigint for 8-byte heads.
 */
export function head(major: number, value: number | bigint, width?: ArgumentWidth): Uint8Array {
  const n = BigInt(value);
  const chosen = width ?? shortestWidth(n);
  const m = major << 5;
  if (chosen === 0) {
    if (n >= 24n) throw new RangeError(`${n} does not fit in the initial byte`);
    return Uint8Array.of(m | Number(n));
  }
  const info = { 1: 24, 2: 25, 4: 26, 8: 27 }[chosen];
  const out = new Uint8Array(1 + chosen);
  out[0] = m | info;
  let rest = n;
  for (let i = chosen; i >= 1; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (rest !== 0n) throw new RangeError(`${n} does not fit in ${chosen} bytes`);
  return out;
}

function shortestWidth(n: bigint): ArgumentWidth {
  if (n < 24n) return 0;
  if (n < 0x100n) return 1;
  if (n < 0x10000n) return 2;
  if (n < 0x100000000n) return 4;
  return 8;
}

/** An unsigned (major 0) or negative (major 1) integer in the given head width. */
export function int(value: number | bigint, width?: ArgumentWidth): Uint8Array {
  const n = BigInt(value);
  return n >= 0n ? head(0, n, width) : head(1, -1n - n, width);
}

export function text(value: string, width?: ArgumentWidth): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  return concat(head(3, bytes.length, width), bytes);
}

export function bytes(value: Uint8Array, width?: ArgumentWidth): Uint8Array {
  return concat(head(2, value.length, width), value);
}

export function array(items: readonly Uint8Array[], width?: ArgumentWidth): Uint8Array {
  return concat(head(4, items.length, width), ...items);
}

export function map(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  return concat(head(5, entries.length), ...entries.flat());
}

export function tag(number: number, item: Uint8Array): Uint8Array {
  return concat(head(6, number), item);
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function fromHex(hexText: string): Uint8Array {
  const clean = hexText.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex ${hexText}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export function toHex(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}
