import { defineConfig } from 'vitest/config';
import { SKIP_MARK } from './test/support/skip.js';

// One root config runs every package. Workspace packages resolve to their TypeScript
// sources through the "source" export condition, so tests need no build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // Skipped tests say why once, after the summary (test/support/skip.ts): the marked lines
    // are collected by the skip reporter, not shown where each worker writes them.
    reporters: ['default', './test/support/skip-reporter.ts'],
    onConsoleLog: (log) => !log.startsWith(SKIP_MARK),
    projects: [
      {
        extends: true,
        test: {
          name: 'store',
          include: ['packages/store/src/**/*.test.ts'],
          env: { LICENSEKIT_TEST_DB: 'pglite' },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'store-postgres',
          include: ['packages/store/src/**/*.test.ts'],
          env: { LICENSEKIT_TEST_DB: 'postgres' },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { name: 'core', include: ['packages/core/src/**/*.test.ts'] },
      },
      { extends: true, test: { name: 'issuer', include: ['packages/issuer/src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'verifier', include: ['packages/verifier/src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120000,
          hookTimeout: 120000,
        },
      },
      {
        extends: true,
        test: {
          name: 'runtimes',
          include: ['test/runtimes/**/*.test.ts'],
          testTimeout: 120000,
          hookTimeout: 120000,
        },
      },
      { extends: true, test: { name: 'cli', include: ['packages/cli/src/**/*.test.ts'] } },
    ],
  },
});
