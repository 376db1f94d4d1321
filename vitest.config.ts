import { defineConfig } from 'vitest/config';

/**
 * Three projects, run together by `npm test`: unit tests beside the code, integration tests against real
 * peers (upstream servers, Redis, an OIDC provider), and browser end-to-end tests in Chromium.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/harness/counts-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
