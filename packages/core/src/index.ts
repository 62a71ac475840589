/**
 * @licensekit/core: the claim model, the strict token codecs, the Ed25519 backends and
 * the pure license arithmetic shared by the issuer, the verifier and the store.
 */

export { defaultBackend, defaultVerifyBackend, platformName, sha256 } from '#ed25519-platform';
export * from './arithmetic/index.js';
export type { IssuerCertificateClaims } from './claims/certificate.js';
export { ALL_PRODUCTS, parseCertificateClaims } from './claims/certificate.js';
export type {
  Access,
  ClaimSource,
  LicenseClaims,
  LicenseClaimsInput,
  PendingChange,
} from './claims/license.js';
export {
  LICENSE_CLAIM_NAMES,
  licenseClaimsToJson,
  PERIOD_UNITS,
  parseLicenseClaims,
  parseQuotaSpec,
  validateLicenseClaims,
} from './claims/license.js';
export { licenseJsonFromCwt, licenseToCwt } from './claims/license-cwt.js';
export type { RevocationListClaims } from './claims/revocation.js';
export { parseRevocationClaims } from './claims/revocation.js';
export type { CoseSign1 } from './codec/cose.js';
export {
  CERTIFICATE_HEADER as COSE_CERTIFICATE_HEADER,
  decodeCoseSign1,
  sigStructure,
} from './codec/cose.js';
export type { DecodedDocument } from './codec/document.js';
export type { PreparedDocument } from './codec/jws.js';
export { JWT_CERTIFICATE_HEADER } from './codec/jws.js';
export type { DocumentKind, TokenFormat } from './codec/kinds.js';
export { COSE_TYPE, JWT_TYPE, MAX_DOCUMENT_LENGTH } from './codec/kinds.js';

export {
  decodeCwtDocument,
  decodeDocument,
  decodeUnnamedCwtDocument,
  decodeUnnamedDocument,
  readCertificateClaims,
  readLicenseClaims,
} from './codec/read.js';
export { readRevocationClaims } from './codec/read-revocations.js';
export type {
  DeviceSigner,
  ProofExpectations,
  ProofRequest,
  VerifiedProof,
} from './device-proof.js';
export { createDeviceProof, DEVICE_PROOF_TYPE, verifyDeviceProof } from './device-proof.js';
export type { Ed25519Backend, Ed25519PrivateKey, Ed25519PublicKey } from './ed25519/backend.js';
export { base64urlDecode, base64urlEncode, isBase64urlOfLength } from './encoding/base64url.js';
export type { CborKey, CborValue } from './encoding/cbor-decode.js';
export { CborTag, decodeStrictCbor } from './encoding/cbor-decode.js';
export type { JsonValue } from './encoding/json.js';
export { parseStrictJson } from './encoding/json.js';
export { utf8Decode, utf8Encode } from './encoding/utf8.js';
export type { LicenseKitErrorCode, LogProofReason, MalformedReason } from './errors.js';
export {
  ClaimError,
  ConfigError,
  KeyError,
  LicenseKitError,
  LogProofError,
  MalformedError,
  UnsupportedError,
} from './errors.js';
export type { Ed25519PrivateJwk, Ed25519PublicJwk } from './keys.js';
export {
  jwkThumbprint,
  parsePrivateJwk,
  parsePublicJwk,
  publicKeyBytes,
  tokenHash,
} from './keys.js';
