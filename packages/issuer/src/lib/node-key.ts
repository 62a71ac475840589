import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import {
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  KeyError,
  parsePrivateJwk,
} from '@licensekit/core';

/** A private key imported into node:crypto, with the public half derived from it. */
export interface ImportedPrivateKey {
  key: KeyObject;
  /** The public key `x` computed from `d`, not copied from the JWK. */
  publicJwk: Ed25519PublicJwk;
}

/**
 * Imports an Ed25519 private JWK (RFC 8037 §2) and checks that its `x` is the public key
 * of its `d`. Node builds the key from `d` alone, so a JWK whose `x` belongs to another key
 * would sign under one key while every kid, certificate and .pub.json names the other:
 * each token issued would fail verification in the customer's app.
 * @throws KeyError (never quoting `d`)
 */
export function importPrivateJwk(value: unknown, what = 'private key'): ImportedPrivateKey {
  const jwk: Ed25519PrivateJwk = parsePrivateJwk(value, what);
  let key: KeyObject;
  try {
    // Only the members Node needs: a stray `alg` or `key_ops` must not change the import.
    key = createPrivateKey({
      key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d },
      format: 'jwk',
    });
  } catch {
    throw new KeyError(`${what} is not a usable Ed25519 private key`);
  }
  const derivedX = createPublicKey(key).export({ format: 'jwk' }).x;
  if (derivedX !== jwk.x) {
    throw new KeyError(`${what} is inconsistent: its "x" is not the public key of its "d"`);
  }
  return { key, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x } };
}
