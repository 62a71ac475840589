import { createPublicKey, type KeyObject, verify as verifyOneShot } from 'node:crypto';
import {
  ConfigError,
  type DocumentKind,
  jwkThumbprint,
  KeyError,
  MAX_DOCUMENT_LENGTH,
  type PreparedDocument,
  parsePublicJwk,
} from '@licensekit/core';
import type { Signer } from '../signer.js';

// Public keys of signers already checked, so a batch of issues imports each key once.
const checkedSigners = new WeakMap<Signer, KeyObject>();

/**
 * Checks that `signer` is a Signer whose kid is the thumbprint of its public key, and
 * imports that key. Issuing functions call it first, before reading `signer.kid`.
 * @throws ConfigError, KeyError
 */
export async function checkSigner(signer: Signer): Promise<KeyObject> {
  const known = checkedSigners.get(signer);
  if (known !== undefined) return known;
  if (typeof signer !== 'object' || signer === null || typeof signer.sign !== 'function') {
    throw new ConfigError('signer must be a Signer (see createSigner)');
  }
  const jwk = parsePublicJwk(signer.publicJwk, 'signer public key');
  if (signer.kid !== (await jwkThumbprint(jwk))) {
    throw new KeyError('signer "kid" is not the RFC 7638 thumbprint of its public key');
  }
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  checkedSigners.set(signer, key);
  return key;
}

/**
 * Signs a prepared document and returns its token text. The signature is verified against
 * the signer's public key before the token leaves the issuer: a signer backed by another
 * key (a misconfigured KMS, a corrupted key file) or a faulty signature (RFC 8032 §8.1
 * notes fault attacks) is caught here, not by every customer's app. A token over the size
 * verifiers accept is refused for the same reason.
 * @throws KeyError, ConfigError
 */
export async function signDocument(
  prepared: PreparedDocument,
  signer: Signer,
  kind: DocumentKind,
): Promise<string> {
  const publicKey = await checkSigner(signer);
  const signature = await signer.sign(prepared.signingInput);
  if (
    !(signature instanceof Uint8Array) ||
    signature.length !== 64 ||
    !verifyOneShot(null, prepared.signingInput, publicKey, signature)
  ) {
    throw new KeyError(`signer ${signer.kid} returned a signature its public key does not verify`);
  }
  const token = prepared.finish(signature);
  const cap = MAX_DOCUMENT_LENGTH[kind];
  if (token.length > cap) {
    throw new ConfigError(
      `the ${kind} token is ${token.length} characters, over the ${cap} that verifiers accept; ` +
        'list fewer entries or use the cwt format',
    );
  }
  return token;
}
