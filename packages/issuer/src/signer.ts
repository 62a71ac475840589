import { sign as signOneShot } from 'node:crypto';
import {
  ConfigError,
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  jwkThumbprint,
  KeyError,
} from '@licensekit/core';
import { importPrivateJwk } from './lib/node-key.js';

/**
 * What every issuing function signs with. `createSigner` makes one from a private JWK; a
 * key held in an HSM or a cloud KMS can implement the same shape, since the issuer only
 * ever asks for a signature over bytes (and checks it against `publicJwk`).
 */
export interface Signer {
  /** RFC 7638 thumbprint of the public key: the `kid` of every document it signs. */
  readonly kid: string;
  /** The public key, with its kid: what verifiers trust or a certificate certifies. */
  readonly publicJwk: Readonly<Ed25519PublicJwk & { kid: string }>;
  /** A pure Ed25519 signature (RFC 8032 §5.1.6, no prehash) of `data`: 64 bytes. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * Makes a {@link Signer} from an Ed25519 private JWK. The key is imported into node:crypto
 * once; the private scalar then lives only inside that KeyObject, captured by the `sign`
 * closure, so the signer has no property holding `d` and JSON.stringify or util.inspect of
 * it never shows key material. A kid in the JWK that is not its RFC 7638 thumbprint is refused.
 *
 * @example
 * ```ts
 * const signer = await createSigner(await readPrivateKeyFile('issuer.json'));
 * const license = await issue(claims, { signer });
 * ```
 * @throws KeyError when the JWK is not an Ed25519 private key or its `x` does not match `d`
 */
export async function createSigner(privateJwk: Ed25519PrivateJwk): Promise<Signer> {
  const { key, publicJwk } = importPrivateJwk(privateJwk);
  const kid = await jwkThumbprint(publicJwk);
  if (privateJwk.kid !== undefined && privateJwk.kid !== kid) {
    throw new KeyError('private key "kid" is not the RFC 7638 thumbprint of the key');
  }
  return Object.freeze({
    kid,
    publicJwk: Object.freeze({ ...publicJwk, kid }),
    sign: async (data: Uint8Array): Promise<Uint8Array> => {
      if (!(data instanceof Uint8Array))
        throw new ConfigError('sign() takes the bytes to sign as a Uint8Array');
      // Ed25519 takes no digest name: node:crypto requires null here (RFC 8032 PureEdDSA).
      return new Uint8Array(signOneShot(null, data, key));
    },
  });
}
