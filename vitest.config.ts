import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native bridge needs processes, not threads; two cores, so two files at a time.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          // `npm run test:unit`, seconds and no shared stack: in-process tests, and workflows with stub
          // activities on Temporal's time-skipping test server (each file starts its own, in memory).
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          // Builds the workflow bundle once and installs the test server when it is missing.
          globalSetup: ['test/unit/support/globalSetup.ts'],
          testTimeout: 15_000,
          hookTimeout: 30_000,
          // When both tiers run (`npm test`, `vitest run`), the unit files go first.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          // One stack (Temporal dev server, MariaDB, memcached, etcd) for every test file.
          globalSetup: ['test/support/globalSetup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
