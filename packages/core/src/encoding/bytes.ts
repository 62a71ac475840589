/**
 * A copy of `bytes` in an array of its own. Not `bytes.slice()`: on a Node Buffer, which
 * is a Uint8Array callers often pass, `slice()` returns a view of the same memory, so a
 * caller that wipes or reuses its buffer would change the "copy" too.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
