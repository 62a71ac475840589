/**
 * The platform module for every runtime but Node (browsers, Deno, Bun, workers, browser
 * extensions), selected through the `#ed25519-platform` import condition "default". It
 * uses web-standard APIs only and chooses a backend by what the runtime does, never by what
 * it claims to be.
 */
import { UnsupportedError } from '../errors.js';
import type { Ed25519Backend } from './backend.js';
import { verifiesStrictly } from './probe.js';
import { asBufferSource, webCryptoBackend } from './webcrypto.js';

/**
 * Picks WebCrypto when `subtle` passes the probe, else the pure-JavaScript noble backend.
 * Exported so tests (and apps with an unusual `SubtleCrypto`) can choose the probe target;
 * `defaultBackend()` is this applied to `globalThis.crypto.subtle`.
 * @throws UnsupportedError when WebCrypto fails and the noble chunk cannot be loaded.
 * @example
 * const backend = await selectBackend(globalThis.crypto?.subtle);
 */
export async function selectBackend(subtle: SubtleCrypto | undefined): Promise<Ed25519Backend> {
  if (subtle !== undefined) {
    const webcrypto = webCryptoBackend(subtle);
    if (await verifiesStrictly(webcrypto)) return webcrypto;
  }
  try {
    // A dynamic import, so bundlers emit noble as a separate chunk that runtimes with
    // WebCrypto Ed25519 never download.
    const { nobleBackend } = await import('./noble.js');
    return nobleBackend;
  } catch (cause) {
    throw new UnsupportedError(`WebCrypto lacks Ed25519; the fallback failed: ${String(cause)}`);
  }
}

let selected: Promise<Ed25519Backend> | undefined;

/**
 * The backend for this runtime, probed once and then memoized. A failed load is not
 * memoized, so a later call can retry (e.g. after a network error fetching the chunk).
 * @example
 * const backend = await defaultBackend();
 */
export function defaultBackend(): Promise<Ed25519Backend> {
  selected ??= selectBackend(globalThis.crypto?.subtle).catch((error: unknown) => {
    selected = undefined;
    throw error;
  });
  return selected;
}

/**
 * SHA-256 (FIPS 180-4), used for RFC 7638 JWK thumbprints. `crypto.subtle` is undefined in
 * insecure browser contexts (plain http), so the portable implementation is the fallback.
 */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined) {
    return new Uint8Array(await subtle.digest('SHA-256', asBufferSource(data)));
  }
  const { sha256: portableSha256 } = await import('@noble/hashes/sha2.js');
  return portableSha256(data);
}

export const platformName: 'node' | 'web' = 'web';
