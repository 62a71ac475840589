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
// Signers whose signatures have been seen to verify under their public key.
const provenSigners = new WeakSet<Signer>();

/** The public key of a signer already checked, without waiting: the issue path's fast case. */
export function checkedSigner(signer: Signer): KeyObject | undefined {
  return checkedSigners.get(signer);
}

/**
 * Checks that `signer` is a Signer whose kid is the thumbprint of its public key, and
 * imports that key. Issuing functions call it first, before reading `signer.kid`.
 * @throws ConfigError, KeyError
 */
export async function checkSigner(signer: Signer): Promise<KeyObject> {
  const known = checkedSigner(signer);
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
 * Signs a prepared document and returns its token text. The first signature of every
 * signer is verified against its public key before the token leaves the issuer, so a
 * signer backed by another key (a misconfigured KMS, a corrupted key file) is caught here,
 * not by every customer's app. Verifying every signature also guards against transient
 * faults (RFC 8032 §8.1 discusses fault attacks on signing hardware); it costs about twice
 * a signature, so it is opt-in: `verify: 'always'`. A token over the size verifiers accept
 * is refused.
 * @throws KeyError, ConfigError
 */
export async function signDocument(
  prepared: PreparedDocument,
  signer: Signer,
  kind: DocumentKind,
  verify: 'first' | 'always' = 'first',
): Promise<string> {
  const publicKey = checkedSigner(signer) ?? (await checkSigner(signer));
  // The one wait of an issue whose signer and certificate are known: the signature.
  const signature = await signer.sign(prepared.signingInput);
  const check = verify === 'always' || !provenSigners.has(signer);
  if (
    !(signature instanceof Uint8Array) ||
    signature.length !== 64 ||
    (check && !verifyOneShot(null, prepared.signingInput, publicKey, signature))
  ) {
    throw new KeyError(`signer ${signer.kid} returned a signature its public key does not verify`);
  }
  if (check) provenSigners.add(signer);
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
