import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // A hang guard, not a speed assertion: RSA-3072 key generation makes registration slow.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
