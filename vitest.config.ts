import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel workers, each with its own fresh store.
    pool: 'forks',
    maxWorkers: 2,
    // Builds web/dist when missing or stale (the browser tests serve it); a no-op otherwise.
    globalSetup: ['test/web/global-setup.ts'],
  },
});
