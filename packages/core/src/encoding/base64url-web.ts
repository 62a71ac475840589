/**
 * `#native-base64url` everywhere but Node: no native decoder, core's own decodes all
 * (`Uint8Array.fromBase64` would do, once every browser the verifier supports has it).
 */
export function decodeNatively(_text: string): Uint8Array | undefined {
  return undefined;
}
