import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // kernels tiered up once per file; files run in parallel on the machine's cores
    pool: 'forks',
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
