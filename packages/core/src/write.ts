/**
 * @licensekit/core/write: the issuing half of the codecs. It holds the CBOR encoder, so it
 * is a separate entry point that verifier bundles never load.
 */

export type { PrepareOptions } from './codec/write.js';
export { prepareCertificate, prepareLicense, prepareRevocationList } from './codec/write.js';
export { encodeCbor } from './encoding/cbor-encode.js';
