import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    // Every test must assert something.
    expect: { requireAssertions: true },
    testTimeout: 20_000,
    pool: 'forks',
  },
});
