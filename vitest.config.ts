import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['scripts/vitest-global-setup.ts'],
    // Every test must assert something.
    expect: { requireAssertions: true },
    testTimeout: 20_000,
    pool: 'forks',
  },
});
