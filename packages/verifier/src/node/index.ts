/**
 * @licensekit/verifier/node: the Node-only adapters (Node, Electron main process): the
 * file state shared safely by several processes, the 0600 device key file, and offline
 * requests and responses as files.
 */

export { fileDeviceKey } from './device-file.js';
export type { FileStateOptions, StateRecovery } from './file-state.js';
export { fileState, StateLockError, writeAtomically } from './file-state.js';
export { readResponseFile, writeRequestFile, writeRequestQrCodes } from './offline-files.js';
