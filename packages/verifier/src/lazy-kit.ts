import {
  base64urlEncode,
  ConfigError,
  MalformedError,
  readRevocationClaims,
} from '@licensekit/core';
import { hashOf } from './acceptor.js';
import { deviceProof, signWithDevice } from './device/device-key.js';

/**
 * What the features loaded with import() (revocation lists, refresh, usage reports) use of
 * the main module graph, handed to them through the engine instead of imported. An app's
 * one-file bundle (no code splitting) inlines each import() target, and esbuild then wraps
 * the target and every module it imports, transitively, in a lazy initialiser: the lazy
 * modules importing core made it wrap 42 modules, ≈ 0.6 KB min+gzip of the full entry
 * (scripts/size.mjs). Importing nothing but types and dependency-free modules, they cost
 * only their own code. Everything here is in the main graph anyway.
 */
export const lazyKit = {
  base64urlEncode,
  ConfigError,
  MalformedError,
  readRevocationClaims,
  hashOf,
  deviceProof,
  signWithDevice,
} as const;

export type LazyKit = typeof lazyKit;
