import { base64urlDecode, base64urlEncode } from '../encoding/base64url.js';
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
  return base64urlEncode(value);
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
 * An integer in the form the CBOR encoder writes in its shortest serialization: cbor-x
 * writes numbers of 2^32 and above as float64 but BigInts as 8-byte integers.
 */
export function int(value: number): CborEncodable {
  return value > 0xffffffff || value < -0x100000000 ? BigInt(value) : value;
}

/** Sets `key` on a JSON-shaped record as an own property (safe for any key name). */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
