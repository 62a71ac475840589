import { ConfigError } from '@licensekit/core';
import { TrustStore } from './trust.js';
import type { VerifierOptions } from './types.js';

/** Verifier options after validation, shared by the main and the compact entry. */
export interface Settings {
  anchors: ReturnType<typeof TrustStore.parse>;
  product: string;
  leeway: number;
  cacheSize: number;
  device: VerifierOptions['device'];
  readClock: () => number | Date;
}

/** A count option (seconds or entries), or its default when absent. */
function countOption(value: number | undefined, fallback: number, name: string): number {
  const count = value ?? fallback;
  if (!Number.isSafeInteger(count) || count < 0)
    throw new ConfigError(`${name} must be a non-negative safe integer`);
  return count;
}

/**
 * Validates the options at construction, so misuse throws at createVerifier. Only what
 * needs the crypto backend — a `revocations` list that does not verify — surfaces at the
 * first call instead.
 */
export function readSettings(options: VerifierOptions): Settings {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('createVerifier needs options');
  const anchors = TrustStore.parse(options.trust ?? {});
  if (typeof options.product !== 'string' || options.product.length === 0) {
    throw new ConfigError('product must be a non-empty string');
  }
  if (options.device !== undefined && typeof options.device?.thumbprint !== 'string') {
    throw new ConfigError('device needs a thumbprint');
  }
  return {
    anchors,
    product: options.product,
    leeway: countOption(options.leeway, 60, 'leeway'),
    cacheSize: countOption(options.cacheSize, 16, 'cacheSize'),
    device: options.device,
    readClock: options.clock ?? Date.now,
  };
}

/** The main entry's settings: the compact one keeps no marks, so it has no clock tolerance. */
export interface EngineSettings extends Settings {
  clockTolerance: number;
}

export function readEngineSettings(options: VerifierOptions): EngineSettings {
  return {
    ...readSettings(options),
    clockTolerance: countOption(options.clockTolerance, 86_400, 'clockTolerance'),
  };
}

/** Reads the injected clock once: whole seconds for the checks, the exact instant for the result. */
export function readClock(settings: Settings): { now: number; checkedAt: Date } {
  const value = settings.readClock();
  const ms = value instanceof Date ? value.getTime() : value;
  // Inside the Date range (±8.64e15 ms), so the period arithmetic needs no check of its own.
  if (typeof ms !== 'number' || !(Math.abs(ms) <= 8.64e15))
    throw new ConfigError('clock returned an invalid time');
  return { now: Math.floor(ms / 1000), checkedAt: new Date(ms) };
}
