import { ConfigError } from '@licensekit/core';
import { TrustStore } from './trust.js';
import type { VerifierOptions } from './types.js';

/** Verifier options after validation, shared by the main and the compact entry. */
export interface Settings {
  anchors: ReturnType<typeof TrustStore.parse>;
  product: string;
  leeway: number;
  clockTolerance: number;
  cacheSize: number;
  device: VerifierOptions['device'];
  readClock: () => number | Date;
}

const DEFAULTS = { leeway: 60, clockTolerance: 86_400, cacheSize: 16 };

function wholeSeconds(value: number | undefined, fallback: number, name: string): number {
  const seconds = value ?? fallback;
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    throw new ConfigError(`${name} must be whole seconds ≥ 0`);
  return seconds;
}

/** Validates options at construction, so misuse throws at createVerifier, never later. */
export function readSettings(options: VerifierOptions): Settings {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('createVerifier needs options');
  const anchors = TrustStore.parse(options.trust ?? {});
  if (typeof options.product !== 'string' || options.product.length === 0) {
    throw new ConfigError('product must be the product id of this app');
  }
  if (options.device !== undefined && typeof options.device?.thumbprint !== 'string') {
    throw new ConfigError('device needs a thumbprint');
  }
  return {
    anchors,
    product: options.product,
    leeway: wholeSeconds(options.leeway, DEFAULTS.leeway, 'leeway'),
    clockTolerance: wholeSeconds(options.clockTolerance, DEFAULTS.clockTolerance, 'clockTolerance'),
    cacheSize: wholeSeconds(options.cacheSize, DEFAULTS.cacheSize, 'cacheSize'),
    device: options.device,
    readClock: options.clock ?? Date.now,
  };
}

/** Reads the injected clock once: whole seconds for the checks, the exact instant for the result. */
export function readClock(settings: Settings): { now: number; checkedAt: Date } {
  const value = settings.readClock();
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms))
    throw new ConfigError('clock returned an invalid time');
  return { now: Math.floor(ms / 1000), checkedAt: new Date(ms) };
}
