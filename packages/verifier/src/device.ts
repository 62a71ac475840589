/**
 * @licensekit/verifier/device: device keys for pages, workers and extensions (WebCrypto).
 * Only apps whose licenses are bound to a device make one; the verifier itself needs only
 * the `DeviceKey` it is given. An entry of its own because a name exported by the main
 * entry stays in every one-file bundle of it (esbuild keeps an entry's exports): these
 * three cost the full entry ~0.5 KB min+gzip (scripts/size.mjs). On Node and in
 * Electron's main process, `fileDeviceKey` is in `@licensekit/verifier/node`.
 *
 * @example
 * import { createVerifier } from '@licensekit/verifier';
 * import { indexedDbDeviceKey } from '@licensekit/verifier/device';
 * const verifier = createVerifier({ trust, product: 'photon', device: await indexedDbDeviceKey() });
 */
export type { DeviceKey } from './device/device-key.js';
export { deviceKeyFromKeyPair, generateDeviceKey } from './device/device-key.js';
export type { IndexedDbDeviceKeyOptions } from './device/indexeddb.js';
export { indexedDbDeviceKey } from './device/indexeddb.js';
