// The machine's f32x4 multiply-add peak, measured in the same run as the kernels (STYLE 27):
// assembly/peak.ts runs the build's own GEMM tile on L1-resident data.
import type { Core } from '../src/core/load.js';

/**
 * One sample of about `ms` milliseconds: GFLOP/s of peak_madd (or of the latency-bound
 * chained variant). `iters` carries the calibrated iteration count between samples.
 */
export function peakSample(core: Core, ms: number, iters: { n: number }, chained = false): number {
  const fn = chained ? core.exports.peak_madd_chained : core.exports.peak_madd;
  const flopsPerIter = chained ? 12 * 8 : core.exports.peak_madds_per_iter() * 8;
  for (;;) {
    const t = performance.now();
    fn(iters.n, 1);
    const dt = performance.now() - t;
    if (dt >= ms * 0.5 || iters.n > 1e9) return (iters.n * flopsPerIter) / dt / 1e6;
    iters.n = Math.ceil(iters.n * Math.min(16, (ms / Math.max(dt, 0.01)) * 1.2));
  }
}

/** Tiers the probes up (V8 optimises a WASM function between calls), then the best of `samples`. */
export function peakGflops(core: Core, samples = 7, ms = 30, chained = false): number {
  for (let i = 0; i < 10; i++) {
    core.exports.peak_madd(1000, 1);
    core.exports.peak_madd_chained(1000, 1);
  }
  const iters = { n: 10_000 };
  return Math.max(...Array.from({ length: samples }, () => peakSample(core, ms, iters, chained)));
}
