import { base64urlDecode, base64urlEncodeShort } from '../encoding/base64url.js';
import type { CborKey, CborValue } from '../encoding/cbor-decode.js';
import type { CborEncodable } from '../encoding/cbor-encode.js';
import { ClaimError } from '../errors.js';

/**
 * Conversions between CBOR values and the JSON shapes of the claim model. Reading never
 * coerces: a claim of the wrong CBOR type is a ClaimError naming the JSON claim, and the
 * validated JSON shape then goes through the same validator as a JWT payload, so both
 * encodings obey one set of rules.
 */

export function cborMap(value: CborValue | undefined, claim: string): Map<CborKey, CborValue> {
  if (!(value instanceof Map)) throw new ClaimError(claim, 'must be a map');
  return value;
}

export function cborBytesToText(value: CborValue | undefined, claim: string): string {
  if (!(value instanceof Uint8Array)) throw new ClaimError(claim, 'must be bytes');
  return base64urlEncodeShort(value);
}

export function textToCborBytes(value: string): Uint8Array {
  return base64urlDecode(value);
}

export function cborArray(value: CborValue | undefined, claim: string): CborValue[] {
  if (!Array.isArray(value)) throw new ClaimError(claim, 'must be an array');
  return value;
}

/** Reads a small code (uint index into `names`). */
export function codeToName<T extends string>(
  value: CborValue | undefined,
  claim: string,
  names: readonly T[],
): T {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= names.length) {
    throw new ClaimError(claim, `must be a code 0..${names.length - 1}`);
  }
  return names[value]!;
}

export function nameToCode(name: string, names: readonly string[]): number {
  const code = names.indexOf(name);
  if (code < 0) throw new ClaimError('code', `unknown name ${name}`);
  return code;
}

/**
 * An integer for the CBOR encoder. Since 0.2 the encoder writes every safe integer as an
 * integer; BigInt for values of 2^32 and more is kept from cbor-x's days (it wrote large
 * numbers as float64) and is written the same way.
 */
export function int(value: number): CborEncodable {
  return value > 0xffffffff || value < -0x100000000 ? BigInt(value) : value;
}
