/** The prebuilt `licensekit-verifier-compact.js`: the compact entry, noble fallback on (see index.ts). */
import { enableNobleFallback } from '@licensekit/core/noble';

enableNobleFallback();

export * from '../compact.js';
