/**
 * @licensekit/verifier/node: the Node-only adapters (Node, Electron main process): the
 * file state shared safely by several processes and the 0600 device key file.
 */

export { fileDeviceKey } from './device-file.js';
export type { FileStateOptions } from './file-state.js';
export { fileState, StateLockError, writeAtomically } from './file-state.js';
