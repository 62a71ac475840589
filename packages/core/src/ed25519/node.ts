/**
 * The Node platform module, selected through the `#ed25519-platform` import condition
 * "node" (package.json "imports"), never by sniffing `process`. node:crypto's one-shot
 * `sign`/`verify` are synchronous calls into OpenSSL; `crypto.subtle` does the same curve
 * math but sends every call through the libuv thread pool and back, which costs throughput
 * and latency and gains nothing for a 64-byte signature.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as signOneShot,
  verify as verifyOneShot,
} from 'node:crypto';
import { copyBytes } from '../encoding/bytes.js';
import { KeyError } from '../errors.js';
import type { Ed25519Backend, Ed25519PrivateKey, Ed25519PublicKey } from './backend.js';
import { hasEd25519Lengths, PUBLIC_KEY_LENGTH } from './lengths.js';
import { pkcs8FromSeed } from './rfc8410.js';
import { assertSeed } from './seed.js';

/**
 * Null when node:crypto refuses the bytes: such a handle verifies nothing. The JWK form
 * (RFC 8037 §2) is used because Node maps it straight onto OpenSSL's raw-key constructor,
 * about ten times faster than decoding a DER SubjectPublicKeyInfo.
 */
function importKeyObject(raw: Uint8Array): KeyObject | null {
  if (!(raw instanceof Uint8Array) || raw.length !== PUBLIC_KEY_LENGTH) return null;
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url');
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return null;
  }
}

class NodePublicKey implements Ed25519PublicKey {
  readonly raw: Uint8Array;
  readonly #key: KeyObject | null;

  constructor(raw: Uint8Array) {
    // A copy, so later writes to the caller's buffer cannot desynchronise raw and the key.
    this.raw = raw instanceof Uint8Array ? copyBytes(raw) : new Uint8Array(0);
    this.#key = importKeyObject(this.raw);
  }

  /** A handle made by another backend still works, at the price of an import per call. */
  static keyObjectOf(handle: Ed25519PublicKey): KeyObject | null {
    return #key in handle ? handle.#key : importKeyObject(handle.raw);
  }
}

class NodePrivateKey implements Ed25519PrivateKey {
  readonly publicKey: Uint8Array;
  // A private field: JSON.stringify and util.inspect never show it (DESIGN.md: keys are never logged).
  readonly #key: KeyObject;

  constructor(key: KeyObject) {
    this.#key = key;
    const { x } = createPublicKey(key).export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.from(x ?? '', 'base64url'));
  }

  static keyObjectOf(handle: Ed25519PrivateKey): KeyObject {
    if (!(#key in handle)) {
      throw new KeyError('Ed25519 private key handle was not imported by the node backend');
    }
    return handle.#key;
  }
}

/**
 * Ed25519 over node:crypto (OpenSSL), which enforces S < L and canonical encodings as
 * RFC 8032 §5.1.7 requires.
 * @example
 * const key = await nodeBackend.importPublicKey(publicKeyBytes);
 * const ok = await nodeBackend.verify(key, message, signature);
 */
export const nodeBackend: Ed25519Backend = {
  name: 'node',

  // The methods are async only to fit the contract; the work inside is synchronous.
  async importPublicKey(raw) {
    return new NodePublicKey(raw);
  },

  async verify(key, message, signature) {
    if (!hasEd25519Lengths(key.raw, signature)) return false;
    const keyObject = NodePublicKey.keyObjectOf(key);
    if (keyObject === null) return false;
    try {
      return verifyOneShot(null, message, keyObject, signature);
    } catch {
      return false;
    }
  },

  async importPrivateKey(seed) {
    assertSeed(seed);
    const der = pkcs8FromSeed(seed);
    try {
      const key = createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' });
      return new NodePrivateKey(key);
    } catch {
      throw new KeyError('node:crypto refused the Ed25519 seed');
    } finally {
      der.fill(0);
    }
  },

  async sign(key, message) {
    return new Uint8Array(signOneShot(null, message, NodePrivateKey.keyObjectOf(key)));
  },
};

const ready: Promise<Ed25519Backend> = Promise.resolve(nodeBackend);

/** The backend to use on this platform: always node:crypto, which every Node ≥ 18 has. */
export function defaultBackend(): Promise<Ed25519Backend> {
  return ready;
}

/** The verifying use of `defaultBackend()` (web.ts leaves signing out; Node needs not). */
export const defaultVerifyBackend = defaultBackend;

/** SHA-256 (FIPS 180-4), used for RFC 7638 JWK thumbprints. */
export function sha256(data: Uint8Array): Promise<Uint8Array> {
  return Promise.resolve(new Uint8Array(createHash('sha256').update(data).digest()));
}

export const platformName: 'node' | 'web' = 'node';
