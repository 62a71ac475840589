import type { DeviceSigner, Ed25519PublicJwk, ProofRequest } from '@licensekit/core';
import {
  base64urlEncode,
  createDeviceProof,
  jwkThumbprint,
  UnsupportedError,
  utf8Encode,
} from '@licensekit/core';

/**
 * A device key: the key a license is bound to at activation (its thumbprint is the
 * token's `cnf.jkt`). Its private half never leaves the device: in WebCrypto it is
 * non-extractable; on Node it lives in a 0600 file (see `fileDeviceKey`).
 */
export interface DeviceKey extends DeviceSigner {
  /** RFC 7638 thumbprint of the public key. */
  readonly thumbprint: string;
  readonly publicJwk: Ed25519PublicJwk;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Wraps a WebCrypto Ed25519 key pair (private key usable for 'sign'). */
export async function deviceKeyFromKeyPair(
  pair: CryptoKeyPair,
  subtle = globalThis.crypto.subtle,
): Promise<DeviceKey> {
  const exported = await subtle.exportKey('jwk', pair.publicKey);
  if (typeof exported.x !== 'string')
    throw new UnsupportedError('the device public key could not be exported');
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: exported.x };
  const thumbprint = await jwkThumbprint(publicJwk);
  const privateKey = pair.privateKey;
  return {
    thumbprint,
    publicJwk: { ...publicJwk, kid: thumbprint },
    async sign(data) {
      return new Uint8Array(
        await subtle.sign('Ed25519', privateKey, data as Uint8Array<ArrayBuffer>),
      );
    },
  };
}

/**
 * Generates a device key pair in WebCrypto with a non-extractable private key: script on
 * the page can use it to sign but can never read it out. Keep `keyPair` (IndexedDB
 * stores CryptoKey objects as they are) to use the same key after a restart.
 * @throws UnsupportedError where WebCrypto has no Ed25519
 */
export async function generateDeviceKey(
  subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle,
): Promise<DeviceKey & { keyPair: CryptoKeyPair }> {
  if (subtle === undefined)
    throw new UnsupportedError('device keys need WebCrypto (a secure context)');
  let keyPair: CryptoKeyPair;
  try {
    keyPair = (await subtle.generateKey('Ed25519', false, ['sign', 'verify'])) as CryptoKeyPair;
  } catch (cause) {
    throw new UnsupportedError(
      `this runtime's WebCrypto cannot generate Ed25519 keys (${String(cause)})`,
    );
  }
  return { ...(await deviceKeyFromKeyPair(keyPair, subtle)), keyPair };
}

/**
 * Proof that this device holds its key, for an activation or refresh request
 * (RFC 9449 DPoP shape; send it in the `DPoP` header).
 */
export function deviceProof(device: DeviceKey, request: ProofRequest): Promise<string> {
  return createDeviceProof(device, request);
}

/** Signs a JSON document as a compact JWS of the given type, with the device's kid. */
export async function signWithDevice(
  device: DeviceKey,
  typ: string,
  payload: unknown,
): Promise<string> {
  const header = { alg: 'EdDSA', typ, kid: device.thumbprint };
  const input = `${base64urlEncode(utf8Encode(JSON.stringify(header)))}.${base64urlEncode(utf8Encode(JSON.stringify(payload)))}`;
  return `${input}.${base64urlEncode(await device.sign(utf8Encode(input)))}`;
}
