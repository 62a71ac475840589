/**
 * CRC-32 (ISO-HDLC: the polynomial of zlib, PNG and Ethernet, reflected 0xEDB88320) of a
 * byte range. It frames the state journal's records so that a record torn by a crash, or
 * bytes damaged on disk, are told apart from a record as written. It is no defence
 * against a deliberate edit (nothing on the customer's machine is): node:zlib's crc32
 * would do, but only from Node 20.15, and this package supports 20.11.
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let c = byte;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[byte] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
