import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**', 'bench/peers/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Worker threads and the CLI run dist/: rebuild it first when a source is newer.
    globalSetup: ['test/global-setup.ts'],
    // Actor tests start worker threads; two cores on CI, so keep test files from piling up threads.
    maxWorkers: 2,
  },
});
