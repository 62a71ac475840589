import { ConfigError } from '@licensekit/core';
import type { DeviceKey } from '../device/device-key.js';
import type { Engine } from '../engine.js';
import { ENGINE_LINK } from '../engine-link.js';
import type { Verifier } from '../types.js';

/**
 * What the offline functions use of a verifier's engine: its product, device, state,
 * clock and the two phases of a check. Only these, because in browsers the engine may come
 * from the main bundle while this code runs from the offline one (see engine-link.ts).
 */
export type OfflineHost = Pick<
  Engine,
  'product' | 'device' | 'state' | 'stateless' | 'clock' | 'accept' | 'decide'
>;

/**
 * The engine behind a verifier of the full entry, with a state to keep pending requests in.
 * @throws ConfigError for the compact verifier, an object that is not a verifier, or a
 *   verifier made with `state: false`
 */
export function hostOf(verifier: Verifier): OfflineHost {
  const host =
    typeof verifier === 'object' && verifier !== null
      ? (verifier as unknown as { [ENGINE_LINK]?: OfflineHost })[ENGINE_LINK]
      : undefined;
  if (host === undefined) {
    throw new ConfigError(
      'offline activation needs a verifier made by createVerifier of @licensekit/verifier (the compact entry keeps no state)',
    );
  }
  if (host.stateless) {
    throw new ConfigError(
      'offline activation needs a state to remember its requests in; this verifier was made with state: false',
    );
  }
  return host;
}

/**
 * The device key that signs a request: a request is the device's proof that it holds the
 * key the new token will be bound to, so a bare `{ thumbprint }` cannot write one.
 * @throws ConfigError
 */
export function signingDevice(host: OfflineHost): DeviceKey {
  const device = host.device;
  if (device === undefined || !('sign' in device) || typeof device.sign !== 'function') {
    throw new ConfigError(
      'an offline request is signed by the device key: create the verifier with device: a DeviceKey (fileDeviceKey from @licensekit/verifier/node; indexedDbDeviceKey or generateDeviceKey from @licensekit/verifier/device)',
    );
  }
  return device as DeviceKey;
}
