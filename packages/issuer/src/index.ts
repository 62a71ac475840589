/**
 * @licensekit/issuer: the Node-only issuing side of licensekit. Key generation and key
 * files, issuer certificates, license signing, renewals (lineage) and revocation lists.
 */

export type { IssuerCertificateOptions } from './certificate.js';
export { createIssuerCertificate, DEFAULT_CERTIFICATE_DAYS } from './certificate.js';
export type { IssueOptions } from './issue.js';
export { issue } from './issue.js';
export type { KeyPair, KeyPairPaths, WriteKeyPairOptions } from './key-files.js';
export {
  generateKeyPair,
  publicKeyPathFor,
  readPrivateKeyFile,
  readPublicKeyFile,
  writeKeyPair,
} from './key-files.js';
export type { LicenseChanges, RemovableClaim, RenewOptions } from './renew.js';
export { renew } from './renew.js';
export type { RevocationListOptions } from './revocation.js';
export { createRevocationList } from './revocation.js';
export type { Signer } from './signer.js';
export { createSigner } from './signer.js';
