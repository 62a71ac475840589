import { Encoder, Tag } from 'cbor-x';

/**
 * CBOR encoding through cbor-x, configured for the preferred serialization the strict
 * decoder demands: no record extension (useRecords), real maps with their own key types,
 * the smallest map headers, byte strings untagged.
 *
 * cbor-x writes JavaScript numbers of 2^32 and above as float64. Integers outside the
 * 32-bit argument range must therefore be handed over as BigInt (see `int` in
 * claims/cwt-values.ts), which cbor-x writes as a shortest-form 8-byte integer.
 *
 * Only the issuing side imports this module, so verifier bundles never contain cbor-x.
 */
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  variableMapSize: true,
  tagUint8Array: false,
  pack: false,
});

export type CborEncodable =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | CborEncodable[]
  | Map<number | string, CborEncodable>
  | Tag;

export function encodeCbor(value: CborEncodable): Uint8Array {
  // cbor-x returns a Buffer view over a reused buffer in Node; copy to an exact Uint8Array.
  return new Uint8Array(encoder.encode(value));
}

export function cborTag(tag: number, value: CborEncodable): Tag {
  return new Tag(value, tag);
}
