import { existsSync } from 'node:fs';
import { test } from 'vitest';
import { skipping } from '../../support/skip.js';

/** Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The flags of machines/node.md: without the background-networking ones Chromium tries to
 * reach Google's hosts at every start, which a closed network refuses. playwright's
 * launch() gives every run a fresh, empty user-data-dir of its own.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Whether Chromium is missing, for `describe.skipIf`. Locally a missing browser skips the
 * suite with a warning; in CI the suite is required, so a failing test says what to install.
 */
export function chromiumMissing(suite: string): boolean {
  const missing = !existsSync(CHROMIUM);
  if (missing && !process.env.CI) {
    skipping(suite, `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  }
  if (missing && process.env.CI) {
    test(`Chromium is installed (CI requires the ${suite})`, () => {
      throw new Error(
        `CI: no Chromium at ${CHROMIUM}; .ci/run must install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
      );
    });
  }
  return missing;
}
