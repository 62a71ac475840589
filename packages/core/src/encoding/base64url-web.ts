/**
 * `#native-base64url` everywhere but Node: no native encoder or decoder, core's own does
 * all (`Uint8Array.fromBase64` would do, once every browser the verifier supports has it).
 */
export function decodeNatively(_text: string): Uint8Array | undefined {
  return undefined;
}

export function encodeNatively(_bytes: Uint8Array): string | undefined {
  return undefined;
}
