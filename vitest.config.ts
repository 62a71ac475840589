import { defineConfig } from 'vitest/config';

// One root config runs every package. Workspace packages resolve to their TypeScript
// sources through the "source" export condition, so tests need no build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'core', include: ['packages/core/src/**/*.test.ts'] },
      },
      { extends: true, test: { name: 'issuer', include: ['packages/issuer/src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'verifier', include: ['packages/verifier/src/**/*.test.ts'] },
      },
    ],
  },
});
