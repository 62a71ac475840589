/**
 * The platform module for every runtime but Node (browsers, Deno, Bun, workers, browser
 * extensions), selected through the `#ed25519-platform` import condition "default". It
 * uses web-standard APIs only and chooses a backend by what the runtime does, never by what
 * it claims to be.
 */
import { UnsupportedError } from '../errors.js';
import type { Ed25519Backend } from './backend.js';
import { type FallbackModule, fallbackLoader } from './fallback.js';
import { verifiesStrictly } from './probe.js';
import { asBufferSource, webCryptoVerifier } from './webcrypto.js';
import { webCryptoBackend } from './webcrypto-backend.js';

/**
 * Picks WebCrypto when `subtle` passes the probe, else the pure-JavaScript noble backend
 * when the app enabled it (`enableNobleFallback`, ed25519/enable-noble.ts).
 * Exported so tests (and apps with an unusual `SubtleCrypto`) can choose the probe target;
 * `defaultBackend()` is this applied to `globalThis.crypto.subtle`.
 * @throws UnsupportedError when WebCrypto fails and the fallback is not enabled or cannot
 *   be loaded.
 * @example
 * const backend = await selectBackend(globalThis.crypto?.subtle);
 */
export function selectBackend(subtle: SubtleCrypto | undefined): Promise<Ed25519Backend> {
  return select(subtle, webCryptoBackend);
}

/** `make` builds the WebCrypto backend: whole, or verifying only (defaultVerifyBackend). */
async function select(
  subtle: SubtleCrypto | undefined,
  make: (subtle: SubtleCrypto) => Ed25519Backend,
): Promise<Ed25519Backend> {
  if (subtle !== undefined) {
    const webcrypto = make(subtle);
    if (await verifiesStrictly(webcrypto)) return webcrypto;
  }
  try {
    return (await loadFallback()).nobleBackend;
  } catch (cause) {
    if (cause instanceof UnsupportedError) throw cause;
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

let selectedVerifier: Promise<Ed25519Backend> | undefined;

/**
 * `defaultBackend()` for code that only verifies (the verifier): with WebCrypto its
 * signing methods throw, so bundlers that inline dynamic imports leave the signing module
 * out. The noble fallback, when enabled, is the whole backend either way.
 * @example
 * const backend = await defaultVerifyBackend();
 */
export function defaultVerifyBackend(): Promise<Ed25519Backend> {
  selectedVerifier ??= select(globalThis.crypto?.subtle, webCryptoVerifier).catch(
    (error: unknown) => {
      selectedVerifier = undefined;
      throw error;
    },
  );
  return selectedVerifier;
}

/**
 * SHA-256 (FIPS 180-4), used for RFC 7638 JWK thumbprints. `crypto.subtle` is undefined in
 * insecure browser contexts (plain http); there the portable implementation of the noble
 * opt-in (`enableNobleFallback`) is the fallback.
 * @throws UnsupportedError without crypto.subtle when the fallback is not enabled
 */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined) {
    return new Uint8Array(await subtle.digest('SHA-256', asBufferSource(data)));
  }
  return (await loadFallback()).sha256(data);
}

/** The noble module when the app opted in; without the opt-in no fallback exists. */
function loadFallback(): Promise<FallbackModule> {
  const load = fallbackLoader();
  if (load === undefined) {
    throw new UnsupportedError('WebCrypto falls short here: see enableNobleFallback()');
  }
  return load();
}

export const platformName: 'node' | 'web' = 'web';
