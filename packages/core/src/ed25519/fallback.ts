/**
 * Where the noble fallback's loader is kept once an app opts in (enable-noble.ts). Apart
 * from the opt-in itself, which holds the `import()` of noble: web.ts asks this module for
 * the loader, and a one-file bundle (no code splitting) that merely holds such an import
 * wraps its target and every module it imports (errors, lengths…) in lazy initialisers,
 * called before each use, even when nothing ever calls the opt-in (~0.1 KB min+gzip of
 * the compact verifier, scripts/size.mjs).
 */

export type FallbackModule = typeof import('./noble.js');

let loader: (() => Promise<FallbackModule>) | undefined;

/** Set by `enableNobleFallback`; the first loader stays. */
export function setFallbackLoader(load: () => Promise<FallbackModule>): void {
  loader ??= load;
}

/** The fallback module's loader once enabled: web.ts asks when WebCrypto falls short. */
export function fallbackLoader(): (() => Promise<FallbackModule>) | undefined {
  return loader;
}
