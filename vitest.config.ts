import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // kernels tiered up once per file; files run in parallel on the machine's cores
    pool: 'forks',
    // Node 20 needs V8's relaxed-SIMD flag; set in-process (a command-line flag that a later
    // Node no longer knows would stop it from starting)
    setupFiles: ['test/setup.ts'],
  },
});
