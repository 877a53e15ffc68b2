import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // A hang guard, not a speed assertion: RSA-3072 key generation makes registration slow.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // `npm run coverage`: V8 line coverage of the code the tests run in their own processes (the
    // `axon` children that test/*.test.ts start are not measured).
    coverage: {
      provider: 'v8',
      include: [
        'src/server/**/*.ts',
        'src/bitsync/**/*.ts',
        'src/crypto/**/*.ts',
        'src/shared/**/*.ts',
        'src/cli/**/*.ts',
      ],
      exclude: ['**/*.test.ts'],
      reporter: ['text-summary', 'text'],
      // The figures still print when a test fails (the run still exits 1 and names the failure).
      reportOnFailure: true,
    },
  },
});
