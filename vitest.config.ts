import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // One stack (Temporal dev server, MariaDB, memcached, etcd) for every test file.
    globalSetup: ['test/support/globalSetup.ts'],
    // Temporal's native bridge needs processes, not threads; two cores, so two files at a time.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
